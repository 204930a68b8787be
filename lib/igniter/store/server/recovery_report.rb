# frozen_string_literal: true

module Igniter
  module Store
    module Server
      # What opening the ledger recovered and quarantined, as a server
      # reports it (start-up log, `/v1/status`, op `server_status`/`stats`):
      # one JSON-ready shape (String keys, Symbols as Strings) whatever the
      # backend hands over.
      #
      # A backend's `recovery` is read in any of these forms:
      # - one file's report (FileBackend): a Hash with `original_bytes`,
      #   `valid_bytes`, `truncated_bytes`, `tail` and, per doc/reliability.md,
      #   `mode`, `quarantined` (spans `{file:, offset:, length:, reason:,
      #   quarantine_path:}`), `salvaged_frames`, `damaged_spans`;
      # - several files' reports (a segmented ledger): an Array of such
      #   Hashes naming their file (`file`, `path` or `segment_path`), or a
      #   Hash from file name to report. Entries that carry only some of the
      #   keys (the orphan-segment entries of older versions) keep what they
      #   have; missing facts are nil, never guessed.
      module RecoveryReport
        # Keys of one file's report, in this order (other keys follow).
        FILE_KEYS = %w[file mode tail original_bytes valid_bytes truncated_bytes salvaged_frames damaged_spans
                       quarantined].freeze
        # A Hash with any of these keys is one file's report.
        REPORT_KEYS = (FILE_KEYS - %w[file]).freeze
        # Ledger-wide findings of a segmented ledger's report, passed through.
        LEDGER_KEYS = %w[unrecognized removed_empty].freeze
        # Where an entry may name its file.
        NAME_KEYS = %w[file path segment_path].freeze

        module_function

        # @param backend [Object, nil] anything; only `recovery` (and `path`
        #   or `root_dir` for the name of a single-file report) is asked for
        # @return [Hash, nil] `{"clean" => Boolean, "damaged_files" => Integer,
        #   "files" => [one Hash per file, keys FILE_KEYS first]}` (deep-frozen),
        #   or nil for a backend without a recovery report (memory)
        def of(backend)
          return nil unless Capabilities.of(backend).include?(Capabilities::RECOVERY)

          build(backend.recovery, default_file: location(backend))
        end

        # The normalizing step of {.of}, for a report already in hand.
        # @param raw [Hash, Array, nil] a backend's `recovery`
        # @param default_file [String, nil] name of a single-file report
        # @return [Hash] see {.of}
        def build(raw, default_file: nil)
          raw = as_json(raw)
          files = entries(raw, default_file).map { |entry, file| file_report(entry, file) }
          damaged = files.count { |file| damaged?(file) }
          report = { "clean" => damaged.zero?, "damaged_files" => damaged, "files" => files }
          # What a segmented ledger found beside its segments (kept, never deleted).
          LEDGER_KEYS.each { |key| report[key] = raw[key] if raw.is_a?(Hash) && raw.key?(key) }
          as_json(report, freeze: true)
        end

        # @param file [Hash] one entry of `files`
        # @return [Boolean] the open cut, skipped or quarantined something of it
        def damaged?(file)
          file["truncated_bytes"].to_i.positive? || file["damaged_spans"].to_i.positive? ||
            !file["quarantined"].empty? || !(file["tail"].nil? || file["tail"] == "clean")
        end

        # Start-up log lines: one warn line per damaged file, or one info
        # line when nothing was damaged.
        # @param report [Hash] from {.of}
        # @param target [String] the ledger's path (WAL file or segment root)
        # @return [Array<Array(Symbol, String)>] `[level, message]` pairs
        def log_lines(report, target)
          damaged = report["files"].select { |file| damaged?(file) }
          return [[:info, clean_line(report["files"], target)]] if damaged.empty?

          damaged.map { |file| [:warn, damaged_line(file, target)] }
        end

        def location(backend)
          case backend
          when FileBackend then backend.path.to_s
          when SegmentedFileBackend then backend.root_dir.to_s
          end
        end

        # @return [Array<Array(Hash, String)>] each entry with the file it names
        def entries(raw, default_file)
          case raw
          when Array then raw.grep(Hash).map { |entry| [entry, nil] }
          when Hash
            return ledger_entries(raw, default_file) if raw["files"].is_a?(Hash) || raw["files"].is_a?(Array)
            return [[raw, default_file]] if raw.keys.intersect?(REPORT_KEYS)

            raw.filter_map { |file, entry| [entry, file] if entry.is_a?(Hash) }
          else []
          end
        end

        # A whole ledger's report (the segmented backend): its `files`, each
        # with the ledger-wide mode unless it names its own.
        def ledger_entries(raw, default_file)
          entries(raw["files"], default_file).map { |entry, file| [{ "mode" => raw["mode"] }.compact.merge(entry), file] }
        end

        def file_report(entry, file)
          name = NAME_KEYS.filter_map { |key| entry[key] }.first || file
          known = FILE_KEYS.to_h { |key| [key, entry[key]] }
          known["file"] = name
          known["truncated_bytes"] = entry["truncated_bytes"].to_i
          known["quarantined"] = Array(entry["quarantined"])
          known.merge(entry.reject { |key, _| FILE_KEYS.include?(key) || NAME_KEYS.include?(key) })
        end

        # What the value is on the wire: String keys, Symbols as Strings.
        def as_json(value, freeze: false)
          JSON.parse(JSON.generate(value), freeze: freeze)
        end

        def clean_line(files, target)
          detail = case files.size
                   when 0 then "nothing to recover"
                   when 1
                     file = files.first
                     ["#{file["valid_bytes"] || file["original_bytes"] || 0} bytes",
                      ("mode=#{file["mode"]}" if file["mode"])].compact.join(", ")
                   else "#{files.size} files checked, none damaged"
                   end
          "Recovery: #{target} opened clean (#{detail})"
        end

        def damaged_line(file, target)
          facts = [("tail=#{file["tail"]}" if file["tail"]), ("mode=#{file["mode"]}" if file["mode"])].compact
          kept = if file["valid_bytes"] && file["original_bytes"]
                   "kept #{file["valid_bytes"]} of #{file["original_bytes"]} bytes, "
                 else
                   ""
                 end
          line = +"Recovery: #{file["file"] || target} damaged"
          line << " (#{facts.join(", ")})" unless facts.empty?
          line << ": #{kept}cut #{file["truncated_bytes"]} bytes"
          line << ", salvaged #{file["salvaged_frames"]} frame(s)" if file["salvaged_frames"].to_i.positive?
          line << ", #{file["damaged_spans"]} damaged span(s)" if file["damaged_spans"].to_i.positive?
          line << "; #{quarantine_text(file["quarantined"])}"
        end

        def quarantine_text(spans)
          return "nothing quarantined" if spans.empty?

          listed = spans.map do |span|
            "#{span["reason"]}@#{span["offset"]}+#{span["length"]} -> #{span["quarantine_path"]}"
          end
          "quarantined #{spans.size} span(s): #{listed.join(", ")}"
        end

        private_class_method :location, :entries, :ledger_entries, :file_report, :as_json, :clean_line, :damaged_line,
                             :quarantine_text
      end
    end
  end
end
