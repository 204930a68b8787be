# frozen_string_literal: true

module Igniter
  module Store
    module Segmented
      # Replay's read of a segment that is not this process's live one
      # (doc/format.md "Segments: salvage"). The segment is salvaged under the
      # recovery mode: every fact outside its damaged spans is served, each
      # damaged span is copied to the segment's quarantine sidecar, and the
      # file is left as it is — a sealed segment is never rewritten (no crash
      # window, its manifest stays true), so the same spans are skipped on
      # every read. A damaged sealed segment also gets 0.5.2's whole-segment
      # receipt, `<segment>.quarantine.json`, which says how many of its facts
      # were served.
      module Reading
        private

        # @param records [Boolean] see {Codecs.salvage}
        # @return [Array<Fact>, NativeRecords] NativeRecords only with `records`
        # @raise [CorruptLedgerError] :strict and the segment is damaged
        def read_segment(path, manifest, records: false)
          bytes = File.binread(path)
          codec = Codecs.detect(bytes) || manifest_codec(manifest) || Codecs::JsonCrc32::NAME
          plan = salvage_plan(codec, bytes, records: records)
          expected = manifest && manifest["fact_count"].to_i
          missing = manifest && manifest["byte_size"].is_a?(Integer) ? manifest["byte_size"] - bytes.bytesize : 0
          return plan.facts unless plan.damaged? || missing.positive? || (expected && plan.facts.size < expected)

          strict_read!(path, plan, bytes.bytesize, missing)
          spans = quarantine_spans(path, bytes, plan.spans)
          report = file_report(plan, manifest ? :sealed : :orphan, codec, spans, 0, expected)
          @mutex.synchronize { note_recovery(path, report) }
          segment_receipt(path, manifest, plan, spans, missing) if manifest
          plan.facts
        rescue Errno::ENOENT => e
          # Purged meanwhile (segment and manifest both gone): nothing was lost.
          segment_receipt_for_error(path, manifest, e) if File.exist?(path + ManifestIndex::MANIFEST_SUFFIX)
          []
        end

        def manifest_codec(manifest)
          codec = manifest && manifest["codec"]
          codec if codec.is_a?(String) && Codecs::ALIASES.key?(codec.to_sym)
        end

        def strict_read!(path, plan, size, missing)
          return unless @recovery_mode == :strict

          if plan.damaged?
            offset, _, reason = plan.first_damage
          elsif missing.positive?
            offset = size
            reason = :torn
          else
            return
          end
          raise CorruptLedgerError.new(path: path, offset: offset, reason: reason)
        end

        # 0.5.2's receipt for a damaged sealed segment: its manifest plus why.
        def segment_receipt(path, manifest, plan, spans, missing)
          expected = manifest["fact_count"].to_i
          served = plan.facts.size
          error_class, message =
            if served.zero? && expected.positive?
              ["RuntimeError", "segment not empty but decoded 0 facts"]
            else
              [self.class::CorruptSegmentError.name, damage_message(plan, served, expected, missing)]
            end
          write_segment_receipt(path, manifest, error_class, message,
                                "quarantined" => spans.map { |span| plain(span) })
        end

        def damage_message(plan, served, expected, missing)
          text = "decoded #{served} of #{expected} facts"
          if plan.damaged?
            offset, _, reason = plan.first_damage
            text + "; #{plan.damaged_spans} damaged span(s) skipped, the first #{reason} at byte #{offset}"
          elsif missing.positive?
            text + "; the file is #{missing} bytes shorter than its manifest says"
          else
            text
          end
        end

        def segment_receipt_for_error(path, manifest, error)
          write_segment_receipt(path, manifest, error.class.name, error.message, {})
        end

        # Written only when this backend may write, and only when it says
        # something new (a replay of an unchanged segment rewrites nothing).
        def write_segment_receipt(path, manifest, error_class, message, extra)
          return unless writable?

          receipt_path = path + ManifestIndex::QUARANTINE_SUFFIX
          receipt = (manifest || {}).merge("quarantined_at" => realtime, "error_class" => error_class,
                                           "error_message" => message.to_s[0, 500], "segment_path" => path).merge(extra)
          old = AtomicFile.read_json(receipt_path)
          return if old && old.except("quarantined_at") == receipt.except("quarantined_at")

          AtomicFile.write_json(receipt_path, receipt, sync: sync?)
          @mutex.synchronize { @index.quarantined(path) }
        rescue StandardError
          nil # a receipt that cannot be written must not fail the replay
        end
      end
    end
  end
end
