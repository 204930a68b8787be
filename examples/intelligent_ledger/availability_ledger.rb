# frozen_string_literal: true

require_relative "availability_deriver"

module Igniter
  module Store
    module IntelligentLedger
      # Store-backed orchestrator of the availability proof: records the base
      # facts (templates, overrides, order events) and derives snapshot facts
      # plus a derivation receipt that names every source fact.
      class AvailabilityLedger
        PRODUCER = { "system" => "availability_ledger", "version" => AvailabilityDeriver::DERIVATION_VERSION }.freeze

        SOURCE_STORES = {
          template: %w[availability_templates template],
          override: %w[availability_overrides override],
          order_event: %w[order_events order_event]
        }.freeze

        # @param store [Igniter::Store::IgniterStore]
        def initialize(store:)
          @store = store
          @deriver = AvailabilityDeriver.new
        end

        # @param weekly_schedule [Hash] day-of-week ("0".."6") => [["HH:MM","HH:MM"], ...]
        # @return [Fact]
        def write_template(technician_id:, weekly_schedule:)
          @store.write(store: :availability_templates, key: technician_id.to_s,
                       value: { "weekly_schedule" => weekly_schedule })
        end

        # @param type [String] "block", or "cancel" to withdraw an earlier version
        # @return [Fact]
        def write_override(technician_id:, override_id:, start_time:, end_time:, type: "block")
          @store.write(store: :availability_overrides, key: "#{technician_id}/#{override_id}",
                       value: { "technician_id" => technician_id.to_s, "start" => start_time.to_f,
                                "end" => end_time.to_f, "type" => type })
        end

        # @param type [String] "reserved", or "cancelled" to free the slot again
        # @return [Fact]
        def write_order_event(order_id:, technician_id:, start_time:, end_time:, type: "reserved")
          @store.write(store: :order_events, key: order_id.to_s,
                       value: { "order_id" => order_id.to_s, "technician_id" => technician_id.to_s,
                                "start" => start_time.to_f, "end" => end_time.to_f, "type" => type })
        end

        # Derives and records a snapshot for the window, plus its receipt.
        # Every call appends a new snapshot version under the same key.
        # @return [Hash] +snapshot_fact:, receipt_fact:+
        def compute_snapshot(technician_id:, horizon_start:, horizon_days:)
          tid = technician_id.to_s
          template = @store.history(store: :availability_templates, key: tid).last
          overrides = @store.history(store: :availability_overrides).select { |f| f.key.start_with?("#{tid}/") }
          orders = @store.history(store: :order_events).select { |f| f.value[:technician_id].to_s == tid }

          sources = []
          sources << [template, :template] if template
          overrides.each { |f| sources << [f, :override] }
          orders.each { |f| sources << [f, :order_event] }
          ids = sources.map { |fact, _| fact.id }
          refs = sources.map { |fact, role| source_ref(fact, role) }

          value = @deriver.derive(
            base_facts: { template: template, overrides: overrides, active_reservations: active_reservations(orders) },
            horizon_start: horizon_start, horizon_days: horizon_days,
            source_fact_ids: ids, source_fact_refs: refs
          )
          snapshot = write_snapshot(tid, horizon_start, horizon_days, value)
          { snapshot_fact: snapshot, receipt_fact: write_receipt(snapshot, tid, horizon_start, horizon_days, value) }
        end

        # @return [Fact, nil] the latest snapshot of the window
        def read_snapshot(technician_id:, horizon_start:, horizon_days:)
          @store.history(store: :availability_snapshots,
                         key: snapshot_key(technician_id.to_s, horizon_start, horizon_days)).last
        end

        # @return [Fact, nil] the derivation receipt of a snapshot fact
        def read_receipt(snapshot_fact_id)
          @store.history(store: :derivation_receipts, key: snapshot_fact_id).last
        end

        private

        def snapshot_key(tid, horizon_start, horizon_days)
          "#{tid}/#{horizon_start.iso8601}/#{horizon_days}d"
        end

        # Latest event per order wins; a cancelled order frees its slot.
        def active_reservations(orders)
          latest = {}
          orders.each do |fact|
            current = latest[fact.key]
            latest[fact.key] = fact if current.nil? || fact.transaction_time >= current.transaction_time
          end
          latest.values.reject { |fact| fact.value[:type].to_s == "cancelled" }
        end

        def source_ref(fact, role)
          store_name, role_name = SOURCE_STORES.fetch(role)
          { "id" => fact.id, "store" => store_name, "role" => role_name, "key" => fact.key }
        end

        def write_snapshot(tid, horizon_start, horizon_days, value)
          @store.write(
            store: :availability_snapshots, key: snapshot_key(tid, horizon_start, horizon_days),
            value: value, producer: PRODUCER,
            derivation: { name: value["derivation"]["name"], version: value["derivation"]["version"],
                          source_fact_ids: value["derived_from_fact_ids"],
                          source_fact_refs: value["derived_from_fact_refs"] || [] }
          )
        end

        def write_receipt(snapshot, tid, horizon_start, horizon_days, value)
          @store.write(
            store: :derivation_receipts, key: snapshot.id, producer: PRODUCER,
            value: { "snapshot_fact_id" => snapshot.id, "technician_id" => tid,
                     "horizon_start" => horizon_start.iso8601, "horizon_days" => horizon_days,
                     "derivation_name" => value["derivation"]["name"],
                     "derivation_version" => value["derivation"]["version"],
                     "source_fact_ids" => value["derived_from_fact_ids"].uniq,
                     "source_fact_refs" => Array(value["derived_from_fact_refs"]).uniq { |r| r["id"] },
                     "derived_at" => Time.now.iso8601(3) }
          )
        end
      end
    end
  end
end
