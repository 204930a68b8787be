# frozen_string_literal: true

require_relative "command"
require_relative "fresh_target"
require_relative "ledger_writer"
require_relative "verification"
require_relative "same_facts"

module Igniter
  module Store
    module CLI
      # `igniter-ledger salvage PATH --out NEW`: writes every fact that can be
      # read from PATH — around any damage, in replay order, ids, causation
      # and times kept — into a new ledger of the same kind (a WAL, or a
      # segmented directory with each store's codec), and lists what it left
      # behind. PATH is only read: no byte, mtime or file of it changes.
      class Salvage < Command
        # The usage line of `--help` and of usage mistakes.
        USAGE = "Usage: igniter-ledger salvage PATH --out NEW [--json]"
        # What a new WAL gets beside it: must be free too.
        WAL_SIDECARS = %w[.snap .lock .descriptors.json].freeze

        # @return [String]
        def self.summary
          "write every recoverable fact of a ledger into a new, clean one (the input is only read)"
        end

        private

        def options(parser, opts)
          parser.on("--out NEW", "the new ledger: a new path (WAL) or a new or empty directory (segmented)") do |v|
            opts[:out] = v
          end
          super
        end

        def arguments(rest, opts)
          super
          raise UsageError, "give --out NEW, where the clean ledger goes" unless opts[:out]
        end

        def execute(opts)
          kind = LedgerPath.kind(opts[:path])
          target = FreshTarget.new(opts[:out], kind == :wal ? :file : :directory, source: opts[:path],
                                                                                   sidecars: WAL_SIDECARS)
          ledger = read_ledger(opts, opts[:path], "read")
          facts = ledger.facts
          bar = progress(opts, "write", facts.size)
          descriptors = target.write do
            LedgerWriter.write(ledger, opts[:out], facts, progress: bar)
            bar.finish
            check_copy(opts[:out], facts)
            LedgerWriter.copy_descriptors(opts[:path], opts[:out], kind)
          end
          report = report(ledger, opts[:out], facts, descriptors)
          opts[:json] ? Output.json(@out, report) : print_report(report)
          0
        end

        # Reads the new ledger back: it must serve the facts written, in order
        # (by id where the codec keeps ids, by count where it does not).
        def check_copy(out, facts)
          copy = LedgerPath.read(out)
          return if SameFacts.same?(copy, facts)

          raise Error, "#{out} serves #{copy.facts.size} facts after writing #{facts.size}; it was removed again"
        end

        def report(ledger, out, facts, descriptors)
          verification = Verification.report(ledger)
          stores = facts.group_by { |f| f.store.to_s }.transform_values(&:size)
          spans = verification[:damaged_spans]
          { source: File.absolute_path(ledger.path), out: File.absolute_path(out), kind: ledger.kind,
            kept_facts: facts.size, stores: stores, codecs: ledger.codecs,
            left_behind: spans, left_behind_bytes: spans.sum { |s| s[:length] },
            broken_causation: verification[:causation][:broken],
            descriptors: descriptors, new_ids: ledger.codecs.value?(SameFacts::COMPACT_CODEC) }
        end

        def print_report(report)
          @out.puts("salvaged #{Output.display(report[:source])} into #{Output.display(report[:out])} " \
                    "(#{report[:kind] == :wal ? "a WAL" : "a segmented ledger"})")
          per_store = report[:stores].map { |s, n| "#{s} #{Output.number(n)}" }.join(", ")
          @out.puts("kept: #{Output.count(report[:kept_facts], "fact")}#{" (#{per_store})" unless per_store.empty?}, " \
                    "in replay order, with their ids, causation and times")
          if report[:new_ids]
            @out.puts("  compact_delta_zlib segments keep no ids: their facts get new ids on every read, as before")
          end
          print_left_behind(report)
          unless report[:broken_causation].empty?
            @out.puts("causation: #{Output.count(report[:broken_causation].size, "kept fact")} name a fact that is " \
                      "not there (lost in the damage, or broken before); kept as they were")
          end
          @out.puts("protocol descriptors: copied") if report[:descriptors] == :copied
          @out.puts("protocol descriptors: not JSON, left behind") if report[:descriptors] == :unreadable
          @out.puts("input: unchanged")
        end

        def print_left_behind(report)
          spans = report[:left_behind]
          if spans.empty?
            @out.puts("left behind: nothing")
            return
          end
          @out.puts("left behind (still in the input): #{Output.count(spans.size, "damaged span")}, " \
                    "#{Output.count(report[:left_behind_bytes], "byte")}")
          spans.each do |s|
            @out.puts("  #{Output.display(s[:file])}: #{Output.count(s[:length], "byte")} at offset #{s[:offset]}: " \
                      "#{s[:reason]}")
          end
        end
      end

      register("salvage", Salvage)
    end
  end
end
