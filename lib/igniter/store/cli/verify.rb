# frozen_string_literal: true

require_relative "command"
require_relative "ledger_path"
require_relative "verification"

module Igniter
  module Store
    module CLI
      # `igniter-ledger verify PATH`: reads a WAL or a segmented directory and
      # reports its frames, facts, damaged spans, broken causation chains and
      # quarantine copies. Changes nothing: no byte, no mtime, no new file.
      # Exit 0 clean, 1 damaged, 2 not a ledger.
      class Verify < Command
        # The usage line of `--help` and of usage mistakes.
        USAGE = "Usage: igniter-ledger verify PATH [--json]   (PATH: a WAL file or a segmented ledger directory)"

        # @return [String]
        def self.summary
          "check a ledger at rest: frames, facts, damage, causation, quarantine (exit 0 clean, 1 damaged, 2 no ledger)"
        end

        private

        def execute(opts)
          ledger = read_ledger(opts, opts[:path], "verify")
          report = Verification.report(ledger)
          opts[:json] ? Output.json(@out, report) : print_report(report)
          report[:status] == "clean" ? 0 : EX_FAILURE
        end

        def print_report(report)
          report[:files].each { |file| print_file(file) }
          @out.puts("(no segments)") if report[:files].empty?
          @out.puts("replayed: #{Output.count(report[:facts], "fact")}")
          print_chains(report[:causation])
          print_quarantine(report[:quarantine])
          print_segment_receipts(report[:segment_receipts]) if report[:segment_receipts]&.any?
          report[:unrecognized]&.each { |path| @out.puts("not the ledger's (left alone): #{path}") }
          @out.puts(verdict(report))
        end

        def print_file(file)
          name = display(file[:path])
          what = case file[:role]
                 when :segment then "#{file[:state]} segment, store #{file[:store]}, #{file[:codec]}"
                 else file[:role] == :wal ? "WAL" : "snapshot"
                 end
          damage = file[:damaged].empty? ? "no damage" : Output.count(file[:damaged].size, "damaged span")
          @out.puts("#{name} (#{what}): #{Output.bytes(file[:bytes])}, #{Output.count(file[:frames], "frame")}, " \
                    "#{Output.count(file[:facts], "fact")}, #{damage}")
          file[:damaged].each do |span|
            @out.puts("  damaged: #{Output.count(span[:length], "byte")} at offset #{span[:offset]}: #{span[:reason]}")
          end
          if file[:missing_bytes].to_i.positive?
            @out.puts("  #{Output.count(file[:missing_bytes], "byte")} shorter than its manifest says")
          end
          return unless file[:expected_facts] && file[:facts] != file[:expected_facts]

          @out.puts("  serves #{file[:facts]} of the #{file[:expected_facts]} facts its manifest counts")
        end

        def print_chains(chains)
          line = "causation: #{Output.count(chains[:checked], "fact")} checked, "
          line += chains[:broken].empty? ? "every chain intact" : Output.count(chains[:broken].size, "broken link")
          if chains[:removed_by_retention].positive?
            line += " (#{Output.count(chains[:removed_by_retention], "fact")} follow facts retention removed)"
          end
          @out.puts(line)
          chains[:unchecked_stores].each do |store|
            @out.puts("  store #{store} not checked: compact_delta_zlib segments keep no ids or causation")
          end
          chains[:broken].each { |b| @out.puts("  #{broken_text(b)}") }
        end

        def broken_text(link)
          where = "fact #{link[:id]} (#{link[:store]}/#{link[:key]})"
          case link[:problem]
          when :unknown
            lost = link[:in_quarantine] ? " (its bytes are in quarantine: #{display(link[:in_quarantine])})" : ""
            "#{where}: causation #{link[:causation]} is no fact of this ledger#{lost}"
          when :missing then "#{where}: no causation, but the key's previous fact is #{link[:expected]}"
          else "#{where}: causation #{link[:causation]} is not the key's previous fact (#{link[:expected] || "none"})"
          end
        end

        def print_quarantine(entries)
          if entries.empty?
            @out.puts("quarantine: empty")
            return
          end
          bad = entries.count { |e| e[:problem] }
          @out.puts("quarantine: #{Output.count(entries.size, "copy", "copies")}, " \
                    "#{bad.zero? ? "all whole (sha256 checked)" : "#{bad} not whole"}")
          entries.each do |e|
            at = if e[:offset]
                   "#{e[:reason]}, #{Output.count(e[:length].to_i, "byte")} from offset #{e[:offset]} of #{e[:file]}"
                 else
                   "?"
                 end
            state = e[:problem] ? "NOT WHOLE: #{e[:problem]}" : "sha256 ok"
            @out.puts("  #{display(e[:receipt] || e[:data])}: #{at}, #{e[:quarantined_at] || "-"}, #{state}")
          end
        end

        def print_segment_receipts(receipts)
          receipts.each do |r|
            @out.puts("segment receipt #{display(r[:receipt])}: #{r[:error_class]}: #{r[:error_message]}")
          end
        end

        def verdict(report)
          return "clean" if report[:status] == "clean"

          parts = []
          parts << Output.count(report[:damaged_spans].size, "damaged span") unless report[:damaged_spans].empty?
          parts << Output.count(report[:short_segments].size, "short segment") unless report[:short_segments].empty?
          broken = report[:causation][:broken].size
          parts << Output.count(broken, "broken causation link") if broken.positive?
          bad = report[:bad_quarantine_copies]
          parts << Output.count(bad, "broken quarantine copy") if bad.positive?
          "damaged: #{parts.join(", ")}"
        end

        def display(path)
          Output.display(path)
        end
      end

      register("verify", Verify)
    end
  end
end
