# frozen_string_literal: true

require_relative "command"
require_relative "time_arg"
require_relative "fresh_target"
require_relative "replayed_store"

module Igniter
  module Store
    module CLI
      # `igniter-ledger export PATH`: the ledger's facts as NDJSON, one per
      # line in replay order, each line the fact's WAL body (doc/format.md):
      # its 11 members as JSON, plus a `symbols` member listing where Symbol
      # values stood (and then without its null optional members), so
      # `igniter-ledger import` restores them exactly.
      # Filters: stores, and a transaction-time range (both ends inclusive).
      class Export < Command
        # The usage line of `--help` and of usage mistakes.
        USAGE = "Usage: igniter-ledger export PATH [--store S ...] [--since T] [--until T] [--out FILE] [--json]"

        # @return [String]
        def self.summary
          "facts as NDJSON (by store and transaction-time range) to stdout or a file"
        end

        private

        def options(parser, opts)
          opts[:stores] = []
          parser.on("--store S", "only this store (repeat for more)") { |v| opts[:stores] << v }
          parser.on("--since T", "only facts with a transaction time at or after T") do |v|
            opts[:since] = TimeArg.parse(v, "--since")
          end
          parser.on("--until T", "only facts with a transaction time at or before T") do |v|
            opts[:until] = TimeArg.parse(v, "--until")
          end
          parser.on("--out FILE", "write to a new FILE (atomically) instead of stdout, then print a summary") do |v|
            opts[:out] = v
          end
          parser.on("--json", "the summary as JSON (with --out)") { opts[:json] = true }
          progress_flag(parser, opts)
        end

        def execute(opts)
          target = opts[:out] && FreshTarget.new(opts[:out], :file, source: opts[:path])
          ledger = read_ledger(opts, opts[:path], "read")
          facts = selected(ledger.facts, opts)
          bar = progress(opts, "export", facts.size)
          if target
            target.write { write_file(opts[:out], facts, bar) }
            summary(opts, ledger, facts)
          else
            write_lines(@out, facts, bar)
          end
          bar.finish
          0
        end

        def selected(facts, opts)
          stores = opts[:stores].map(&:to_s)
          facts.select do |f|
            (stores.empty? || stores.include?(f.store.to_s)) &&
              (opts[:since].nil? || f.transaction_time >= opts[:since]) &&
              (opts[:until].nil? || f.transaction_time <= opts[:until])
          end
        end

        def write_lines(io, facts, bar)
          facts.each_with_index do |fact, i|
            io.write(JsonCanon.fact_body(fact), "\n")
            bar.progress = i + 1
          end
        end

        # A temporary file beside FILE, fsynced and renamed: FILE is the whole
        # export or absent, never half of one.
        def write_file(path, facts, bar)
          tmp = "#{path}.tmp-#{Process.pid}"
          begin
            File.open(tmp, File::WRONLY | File::CREAT | File::EXCL | File::BINARY, 0o644) do |io|
              write_lines(io, facts, bar)
              io.flush
              io.fsync
            end
            File.rename(tmp, path)
          ensure
            FileUtils.rm_f(tmp)
          end
        end

        def summary(opts, ledger, facts)
          stores = facts.group_by { |f| f.store.to_s }.transform_values(&:size)
          doc = { source: File.absolute_path(ledger.path), out: File.absolute_path(opts[:out]), facts: facts.size,
                  of: ledger.facts.size, stores: stores, since: Output.time_or_nil(opts[:since]),
                  until: Output.time_or_nil(opts[:until]) }
          return Output.json(@out, doc) if opts[:json]

          per_store = stores.map { |s, n| "#{s} #{Output.number(n)}" }.join(", ")
          @out.puts("exported #{Output.count(facts.size, "fact")} of #{Output.number(ledger.facts.size)} " \
                    "to #{Output.display(doc[:out])}#{" (#{per_store})" unless per_store.empty?}")
        end
      end

      register("export", Export)
    end
  end
end
