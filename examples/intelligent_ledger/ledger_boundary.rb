# frozen_string_literal: true

require "digest"
require "time"

module Igniter
  module Store
    module IntelligentLedger
      # In-memory lifecycle of one technician-day boundary:
      # open -> closed (result fixed) -> settled -> compacted (detail purged).
      # The result hash is fixed at close; nothing later changes it.
      class LedgerBoundary
        POLICY_NAME = "technician_day"
        RULE_VERSION = "1.0"

        attr_reader :boundary_key, :subject, :status, :result_hash, :source_fact_ids, :source_fact_refs,
                    :output_fact_id, :output_value, :receipt_fact_id, :detail_status, :closed_at,
                    :compacted_at, :compaction_receipt_id, :settlement_status, :settlement_receipt_id
        alias id boundary_key

        # @return [String] the boundary key of a technician day
        def self.key_for(company_id:, technician_id:, date:, rule_version: RULE_VERSION)
          "#{POLICY_NAME}/company=#{company_id}/technician=#{technician_id}/date=#{date}/version=#{rule_version}"
        end

        # Rebuilds a closed (or compacted) boundary from its persisted record,
        # without running the open -> close transitions again.
        # @param boundary_record [Hash] Symbol-keyed record value
        # @return [LedgerBoundary]
        def self.from_persisted(boundary_record:, output_value: nil, settlement_receipt_id: nil,
                                compaction_receipt_id: nil, compacted_at: nil)
          allocate.tap do |b|
            b.send(:restore, boundary_record, output_value, settlement_receipt_id, compaction_receipt_id, compacted_at)
          end
        end

        # @param subject [Hash] +:company_id, :technician_id, :date+
        def initialize(subject:, rule_version: RULE_VERSION)
          @subject = subject.freeze
          @rule_version = rule_version
          @boundary_key = self.class.key_for(company_id: subject[:company_id], technician_id: subject[:technician_id],
                                             date: subject[:date], rule_version: rule_version)
          @status = :open
          @detail_status = :full
          @source_fact_ids = [].freeze
          @source_fact_refs = [].freeze
          @settlement_status = :unsettled
        end

        def open? = status == :open
        def closed? = %i[closed compacted].include?(status)
        def compacted? = status == :compacted
        def settled? = settlement_status == :settled

        # Fixes the boundary's result.
        # @raise [RuntimeError] "boundary already closed"
        # @return [self]
        def close!(output_fact:, receipt_fact:, source_fact_ids:, source_fact_refs: [])
          raise "boundary already closed" unless open?

          @output_fact_id = output_fact.id
          @output_value = output_fact.value
          @receipt_fact_id = receipt_fact.id
          @source_fact_ids = Array(source_fact_ids).uniq.freeze
          @source_fact_refs = Array(source_fact_refs).map { |ref| stringify(ref) }.uniq { |ref| ref["id"] }.freeze
          @result_hash = compute_result_hash
          @status = :closed
          @closed_at = Time.now
          self
        end

        # @raise [RuntimeError] unless closed and not yet settled
        # @return [self]
        def settle!(settlement_receipt_id:)
          raise "boundary must be closed before settlement" unless status == :closed
          raise "boundary already settled" if settled?

          @settlement_receipt_id = settlement_receipt_id
          @settlement_status = :settled
          self
        end

        # Marks the detail as purged; only a settled, closed boundary compacts.
        # @param compaction_receipt_id [String]
        # @param at [Time] when it compacted (the cleanup receipt's time)
        # @raise [RuntimeError] unless closed and settled
        # @return [self]
        def compact!(compaction_receipt_id:, at: Time.now)
          raise "boundary must be closed before compaction" unless status == :closed
          raise "boundary must be settled before compaction" unless settled?

          @compaction_receipt_id = compaction_receipt_id
          @detail_status = :purged
          @status = :compacted
          @compacted_at = at
          self
        end

        private

        # Canonical JSON (sorted keys, independent of Ruby's Hash#inspect
        # format) plus the sorted source ids and the rule version.
        def compute_result_hash
          output = Igniter::Store::JsonCanon.canonical_json(Igniter::Store::JsonCanon.normalize(output_value))
          Digest::SHA256.hexdigest(output + source_fact_ids.sort.join(",") + @rule_version.to_s)
        end

        def stringify(ref)
          ref.to_h.each_with_object({}) { |(k, v), out| out[k.to_s] = v }
        end

        def restore(record, output_value, settlement_receipt_id, compaction_receipt_id, compacted_at)
          @boundary_key = record[:boundary_key]
          @rule_version = record[:rule_version] || RULE_VERSION
          @subject = (record[:subject] || {}).freeze
          @status = compaction_receipt_id ? :compacted : :closed
          @detail_status = compaction_receipt_id ? :purged : (record[:detail_status]&.to_sym || :full)
          @output_fact_id = record[:output_fact_id]
          @receipt_fact_id = record[:receipt_fact_id]
          @result_hash = record[:result_hash]
          @output_value = output_value
          @source_fact_ids = Array(record[:source_fact_ids]).freeze
          @source_fact_refs = Array(record[:source_fact_refs] || []).map { |ref| stringify(ref) }.freeze
          @closed_at = parse_time(record[:closed_at])
          @compacted_at = compacted_at
          @compaction_receipt_id = compaction_receipt_id
          @settlement_receipt_id = settlement_receipt_id
          @settlement_status = settlement_receipt_id ? :settled : :unsettled
        end

        def parse_time(value)
          return nil if value.nil?

          Time.parse(value.to_s)
        rescue ArgumentError
          nil
        end
      end
    end
  end
end
