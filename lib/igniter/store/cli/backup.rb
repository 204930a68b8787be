# frozen_string_literal: true

require_relative "command"
require_relative "fresh_target"
require_relative "wal_backup"
require_relative "segmented_backup"
require_relative "same_facts"

module Igniter
  module Store
    module CLI
      # `igniter-ledger backup PATH DEST`: a consistent copy of a ledger, live
      # or not, then checked: DEST is read back and must serve the facts that
      # were copied. With no writer it holds a reader's share of the lock, so
      # none starts meanwhile; while a writer holds the lock it copies the
      # ledger's complete frames as of the moment of copying (the files are
      # append-only) and says so. DEST must not exist.
      class Backup < Command
        # The usage line of `--help` and of usage mistakes.
        USAGE = "Usage: igniter-ledger backup PATH DEST [--json]   (DEST must not exist)"
        # The positional arguments, by name.
        ARGUMENTS = %i[path dest].freeze

        # @return [String]
        def self.summary
          "a consistent copy of a ledger, live or at rest, checked after copying"
        end

        private

        def execute(opts)
          kind = LedgerPath.kind(opts[:path])
          target = FreshTarget.new(opts[:dest], kind == :wal ? :file : :directory,
                                   source: opts[:path], sidecars: WalBackup::DEST_SIDECARS, empty_ok: false)
          writer_pid = nil
          begin
            lock = LedgerPath.share_lock(opts[:path], kind)
          rescue LedgerLockedError => e
            writer_pid = e.pid || :unknown
          end
          result = begin
            target.write { copy(opts, kind, writer_pid) }
          ensure
            lock&.release
          end
          report = report(opts, kind, writer_pid, result)
          opts[:json] ? Output.json(@out, report) : print_report(report)
          0
        end

        def copy(opts, kind, writer_pid)
          bar = progress(opts, "backup", LedgerPath.bytes_to_read(opts[:path]))
          klass = kind == :wal ? WalBackup : SegmentedBackup
          result = klass.new(opts[:path], opts[:dest], live: !writer_pid.nil?, progress: bar).run
          bar.finish
          check(opts[:dest], result)
          result
        end

        # DEST read back must serve exactly the facts copied: by id, or where a
        # codec keeps no ids (compact_delta_zlib) by store, key, value hash and time.
        def check(dest, result)
          copy = LedgerPath.read(dest)
          return if SameFacts.same?(copy, result.expected)

          raise Error, "the copy at #{dest} serves #{copy.facts.size} facts, the source held #{result.expected.size} " \
                       "when copied; the copy was removed"
        end

        def report(opts, kind, writer_pid, result)
          last = result.expected.last
          ids = !result.expected.empty? && !LedgerPath.read(opts[:dest]).codecs.value?(SameFacts::COMPACT_CODEC)
          { source: File.absolute_path(opts[:path]), dest: File.absolute_path(opts[:dest]), kind: kind,
            writer_pid: writer_pid == :unknown ? nil : writer_pid, live: !writer_pid.nil?,
            files: result.copied.map do |path, copied, size|
              { path: File.absolute_path(path), bytes_copied: copied, bytes_at_source: size }
            end,
            sidecars: result.sidecars.map { |p| File.absolute_path(p) }, not_copied: result.skipped,
            attempts: result.attempts,
            verified: { facts: result.expected.size, last_fact_id: ids ? last.id : nil,
                        last_transaction_time: Output.time_or_nil(last&.transaction_time) } }
        end

        def print_report(report)
          @out.puts("backed up #{Output.display(report[:source])} to #{Output.display(report[:dest])}")
          if report[:live]
            @out.puts("a writer (pid #{report[:writer_pid] || "unknown"}) holds the ledger: copied its complete " \
                      "frames as of the moment of copying (a consistent prefix; later writes are not in the copy)")
          end
          report[:files].each do |f|
            part = if f[:bytes_copied] == f[:bytes_at_source]
                     Output.bytes(f[:bytes_copied])
                   else
                     "#{Output.number(f[:bytes_copied])} of #{Output.number(f[:bytes_at_source])} bytes"
                   end
            @out.puts("  #{Output.display(f[:path])}: #{part}")
          end
          report[:sidecars].each { |s| @out.puts("  #{Output.display(s)} (sidecar)") }
          report[:not_copied].each { |s| @out.puts("  not the ledger's, not copied: #{Output.display(s)}") }
          v = report[:verified]
          last = v[:last_fact_id] ? ", the last #{v[:last_fact_id]} at #{v[:last_transaction_time]}" : ""
          @out.puts("verified: the copy serves #{Output.count(v[:facts], "fact")}#{last}, as copied")
        end
      end

      register("backup", Backup)
    end
  end
end
