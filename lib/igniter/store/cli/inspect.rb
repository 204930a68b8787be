# frozen_string_literal: true

require_relative "command"
require_relative "quarantine_check"

module Igniter
  module Store
    module CLI
      # `igniter-ledger inspect PATH`: what a ledger holds and how it lies on
      # disk — stores with their fact and key counts and time ranges, sizes,
      # format and codecs, the lock holder, and what the next writer's open
      # would recover. Reads at rest and writes nothing; while a writer holds
      # the ledger it still reads (without the lock: an append-only ledger's
      # prefix as of now) and names the writer.
      class Inspect < Command
        # The usage line of `--help` and of usage mistakes.
        USAGE = "Usage: igniter-ledger inspect PATH [--json]"

        # @return [String]
        def self.summary
          "stores, keys, facts, time ranges, sizes, codec, lock holder and recovery summary of a ledger"
        end

        private

        def execute(opts)
          ledger = read_ledger(opts, opts[:path], "read", writer_ok: true)
          doc = describe(ledger)
          opts[:json] ? Output.json(@out, doc) : print_doc(doc)
          0
        end

        def describe(ledger)
          facts = ledger.facts
          doc = { path: File.absolute_path(ledger.path), kind: ledger.kind, format: format_of(ledger),
                  lock: lock_of(ledger), facts: facts.size, stores: stores(ledger, facts),
                  transaction_time: range(facts.map(&:transaction_time)),
                  valid_time: range(facts.filter_map(&:valid_time)), size_on_disk: sizes(ledger) }
          quarantine = QuarantineCheck.entries(ledger.quarantine_dirs)
          doc[:quarantine] = { copies: quarantine.size, bytes: quarantine.sum { |e| e.length.to_i },
                               not_whole: quarantine.count(&:problem) }
          doc.merge!(ledger.kind == :wal ? wal_details(ledger) : segmented_details(ledger))
        end

        def format_of(ledger)
          if ledger.kind == :wal
            return "WAL: one file of CRC-32 framed JSON facts (doc/format.md)#{", plus a snapshot" if ledger.snapshot}"
          end

          codecs = ledger.codecs.values.uniq.sort.join(", ")
          "segmented: per-store, per-time-bucket segment files with manifests (#{codecs})"
        end

        def lock_of(ledger)
          file = File.absolute_path(LedgerPath.lock_file(ledger.path, ledger.kind))
          state = if ledger.writer_pid then "held by a writer"
                  elsif File.exist?(file) then "free"
                  else
                    "no lock file"
                  end
          pid = ledger.writer_pid == :unknown ? nil : ledger.writer_pid
          { file: file, state: state, writer_pid: pid }
        end

        def stores(ledger, facts)
          codecs = ledger.codecs
          facts.group_by { |f| f.store.to_s }.sort.map do |name, list|
            entry = { name: name, facts: list.size, keys: list.map(&:key).uniq.size,
                      transaction_time: range(list.map(&:transaction_time)),
                      valid_time: range(list.filter_map(&:valid_time)), codec: codecs[name] }
            if ledger.kind == :segmented
              segs = ledger.segments.select { |s| s.store == name }
              entry[:segments] = { sealed: segs.count { |s| s.state == :sealed },
                                   orphan: segs.count { |s| s.state == :orphan } }
              entry[:bytes] = segs.sum(&:size)
            end
            entry
          end
        end

        def range(times)
          return nil if times.empty?

          min, max = times.minmax
          { first: Output.time(min), last: Output.time(max), first_epoch: min, last_epoch: max }
        end

        # Bytes on disk by part: the ledger's data, its sidecars, its quarantine.
        def sizes(ledger)
          quarantine = ledger.quarantine_dirs.sum { |dir| tree_bytes(dir) }
          if ledger.kind == :wal
            wal = File.size?(ledger.path).to_i
            snapshot = File.size?(ledger.path + FileBackend::SNAPSHOT_SUFFIX).to_i
            other = ledger.sidecars.sum { |f| File.size?(f).to_i } - snapshot
            { total: wal + snapshot + other + quarantine, wal: wal, snapshot: snapshot, quarantine: quarantine,
              sidecars: other }
          else
            segments = ledger.segments.sum { |s| File.size?(s.path).to_i }
            total = tree_bytes(ledger.path)
            { total: total, segments: segments, quarantine: quarantine, sidecars: total - segments - quarantine }
          end
        end

        def tree_bytes(dir)
          return File.size?(dir).to_i unless File.directory?(dir)

          Dir.glob(File.join(dir, "**", "*"), File::FNM_DOTMATCH).sum { |f| File.file?(f) ? File.size(f) : 0 }
        end

        def wal_details(ledger)
          report = ledger.recovery
          details = { frames: ledger.files.sum(&:frames), recovery: recovery_summary(report[:quarantined], report) }
          if ledger.snapshot&.header
            header = ledger.snapshot.header
            details[:snapshot] = { fact_count: header[:fact_count],
                                   written_at: Output.time_or_nil(header[:written_at]) }
          end
          details[:leftovers] = ledger.sidecars.select { |f| f.end_with?(".tmp") }
          details
        end

        def segmented_details(ledger)
          spans = ledger.segments.flat_map do |seg|
            seg.spans.map do |offset, length, reason|
              { file: seg.path, offset: offset, length: length, reason: reason }
            end
          end
          orphans = ledger.segments.select { |s| s.state == :orphan }
          cut = orphans.sum { |s| s.size - s.sound_end }
          { frames: ledger.segments.sum { |s| s.frames.size },
            recovery: recovery_summary(spans, { truncated_bytes: cut }),
            orphan_segments: orphans.map(&:path), unrecognized: ledger.unrecognized,
            purge_receipts: ledger.purge_receipts.size }
        end

        def recovery_summary(spans, report)
          reasons = spans.group_by { |s| s[:reason] }.transform_values(&:size)
          { clean: spans.empty?, damaged_spans: spans.size, damaged_bytes: spans.sum { |s| s[:length] },
            reasons: reasons, bytes_a_writer_would_cut: report[:truncated_bytes] }
        end

        def print_doc(doc)
          @out.puts("#{Output.display(doc[:path])}: #{doc[:format]}")
          print_lock(doc[:lock])
          @out.puts("facts: #{Output.number(doc[:facts])} in #{Output.count(doc[:stores].size, "store")}, " \
                    "#{Output.count(doc[:frames], "frame")} on disk")
          @out.puts("transaction time: #{range_text(doc[:transaction_time])}")
          @out.puts("valid time: #{doc[:valid_time] ? range_text(doc[:valid_time]) : "none set"}")
          doc[:stores].each { |s| print_store(s) }
          if doc[:snapshot]
            snap = doc[:snapshot]
            @out.puts("snapshot: #{Output.count(snap[:fact_count].to_i, "fact")}, written #{snap[:written_at]}")
          end
          print_sizes(doc[:size_on_disk])
          print_recovery(doc[:recovery])
          print_quarantine(doc[:quarantine])
          print_durability(doc)
        end

        def print_lock(lock)
          text = case lock[:state]
                 when "held by a writer"
                   "held by a writer (pid #{lock[:writer_pid] || "unknown"}): read without the lock, " \
                   "as of now (the writer may have appended since)"
                 when "free" then "free (#{Output.display(lock[:file])})"
                 else "none yet (#{Output.display(lock[:file])} is created by the first writer)"
                 end
          @out.puts("lock: #{text}")
        end

        def print_store(store)
          line = "  store #{store[:name]}: #{Output.count(store[:facts], "fact")}, " \
                 "#{Output.count(store[:keys], "key")}, " \
                 "#{range_text(store[:transaction_time])}"
          line += ", #{store[:codec]}" if store[:codec] && store[:segments]
          if store[:segments]
            segs = store[:segments]
            line += ", #{Output.count(segs[:sealed], "sealed segment")}"
            line += " + #{Output.count(segs[:orphan], "unsealed segment")}" if segs[:orphan].positive?
            line += ", #{Output.bytes(store[:bytes])}"
          end
          @out.puts(line)
        end

        def range_text(range)
          return "-" unless range

          range[:first] == range[:last] ? range[:first] : "#{range[:first]} .. #{range[:last]}"
        end

        def print_sizes(sizes)
          parts = sizes.except(:total).reject { |_, v| v.zero? }.map { |k, v| "#{k} #{Output.bytes(v)}" }
          @out.puts("on disk: #{Output.bytes(sizes[:total])}#{": #{parts.join(", ")}" unless parts.empty?}")
        end

        def print_recovery(rec)
          if rec[:clean]
            @out.puts("recovery: clean (the next open has nothing to recover)")
            return
          end
          reasons = rec[:reasons].map { |r, n| "#{r} #{n}" }.join(", ")
          line = "recovery: #{Output.count(rec[:damaged_spans], "damaged span")} (#{reasons}), " \
                 "#{Output.count(rec[:damaged_bytes], "byte")}; the next writer's open copies them to quarantine"
          cut = rec[:bytes_a_writer_would_cut].to_i
          line += " and cuts #{Output.count(cut, "byte")}" if cut.positive?
          @out.puts(line + " (igniter-ledger verify lists them)")
        end

        def print_quarantine(q)
          if q[:copies].zero?
            @out.puts("quarantine: empty")
          else
            whole = q[:not_whole].zero? ? "all whole" : "#{q[:not_whole]} NOT whole"
            @out.puts("quarantine: #{Output.count(q[:copies], "copy", "copies")}, #{Output.bytes(q[:bytes])}, #{whole}")
          end
        end

        def print_durability(doc)
          doc[:leftovers]&.each { |f| @out.puts("leftover of a crashed checkpoint or recovery: #{Output.display(f)}") }
          Array(doc[:orphan_segments]).each do |path|
            @out.puts("unsealed segment (a writer is writing it, or died): #{Output.display(path)}")
          end
          Array(doc[:unrecognized]).each { |path| @out.puts("not the ledger's (left alone): #{Output.display(path)}") }
          @out.puts("purge receipts: #{doc[:purge_receipts]}") if doc[:purge_receipts].to_i.positive?
        end
      end

      register("inspect", Inspect)
    end
  end
end
