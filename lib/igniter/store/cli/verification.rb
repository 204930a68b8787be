# frozen_string_literal: true

require_relative "causation_check"
require_relative "quarantine_check"

module Igniter
  module Store
    module CLI
      # The findings of `verify` for a ledger read at rest, as one Hash (the
      # `--json` document): per file its frames, facts and damaged spans; the
      # facts an open serves; broken causation chains; the quarantine's copies
      # and whether each is whole. Damage is any damaged span, a segment
      # shorter than its manifest or serving fewer facts than it says, a broken
      # chain, or a quarantine copy that is not whole.
      module Verification
        module_function

        # @param ledger [WalAtRest, SegmentedAtRest]
        # @return [Hash] Symbol keys; `status` is "clean" or "damaged"
        def report(ledger)
          files = ledger.files.map { |file| file_entry(ledger, file) }
          spans = files.flat_map { |f| f[:damaged].map { |s| { file: f[:path] }.merge(s) } }
          short = files.select { |f| f[:missing_bytes].to_i.positive? || short_of_manifest?(f) }
          quarantine = QuarantineCheck.entries(ledger.quarantine_dirs).map { |e| quarantine_entry(e) }
          chains = chains(ledger, quarantine)
          bad_copies = quarantine.count { |q| q[:problem] }
          damaged = !spans.empty? || !short.empty? || !chains[:broken].empty? || bad_copies.positive?
          doc = { path: File.absolute_path(ledger.path), kind: ledger.kind, status: damaged ? "damaged" : "clean",
                  files: files, frames: files.sum { |f| f[:frames] }, facts: ledger.facts.size,
                  damaged_spans: spans, short_segments: short.map { |f| f[:path] }, causation: chains,
                  quarantine: quarantine, bad_quarantine_copies: bad_copies }
          doc[:writer_pid] = ledger.writer_pid if ledger.writer_pid
          if ledger.kind == :segmented
            doc[:segment_receipts] = ledger.segment_receipts.map { |r| segment_receipt(r) }
            doc[:unrecognized] = ledger.unrecognized
          end
          doc
        end

        def file_entry(ledger, file)
          entry = { path: File.absolute_path(file.path), role: role(file), bytes: file.size }
          if ledger.kind == :segmented
            entry.merge!(store: file.store, state: file.state, codec: file.codec, frames: file.frames.size,
                         facts: file.facts.size, expected_facts: file.expected_facts, missing_bytes: file.missing_bytes)
          else
            entry.merge!(frames: file.frames, facts: file.facts.size)
            entry[:snapshot_fact_count] = file.header[:fact_count] if file.header
          end
          entry[:damaged] = file.spans.map do |offset, length, reason|
            { offset: offset, length: length, reason: reason }
          end
          entry
        end

        def role(file)
          file.respond_to?(:role) ? file.role : :segment
        end

        # A sealed segment whose manifest counts more facts than it serves, with
        # no damaged span to say why (a file cut at a frame boundary).
        def short_of_manifest?(entry)
          entry[:expected_facts] && entry[:damaged].empty? && entry[:facts] < entry[:expected_facts]
        end

        def chains(ledger, quarantine)
          purged = ledger.kind == :segmented ? ledger.purge_receipts.map { |r| r["store"].to_s } : []
          result = CausationCheck.run(ledger.written, codecs: ledger.codecs, purged_stores: purged)
          { checked: result.checked, broken: result.breaks.map { |b| with_quarantine(b.to_h, quarantine) },
            removed_by_retention: result.removed, unchecked_stores: result.unchecked }
        end

        # A causation naming no fact of the ledger often names one an open cut
        # out as damage: its id is still readable in the quarantined bytes.
        def with_quarantine(link, quarantine)
          return link unless link[:problem] == :unknown

          copy = quarantine.find do |q|
            q[:data] && File.file?(q[:data]) && File.binread(q[:data]).include?(link[:causation])
          end
          copy ? link.merge(in_quarantine: copy[:data]) : link
        end

        def quarantine_entry(entry)
          entry.to_h.merge(receipt: entry.receipt, ok: entry.problem.nil?)
        end

        def segment_receipt(receipt)
          { receipt: receipt["receipt"], segment: receipt["segment_path"], error_class: receipt["error_class"],
            error_message: receipt["error_message"], quarantined_at: Output.time_or_nil(receipt["quarantined_at"]) }
        end
        private_class_method :file_entry, :role, :short_of_manifest?, :chains, :with_quarantine, :quarantine_entry,
                             :segment_receipt
      end
    end
  end
end
