# frozen_string_literal: true

require "securerandom"
require "digest"
require "time"
require_relative "availability_ledger"
require_relative "ledger_boundary"

module Igniter
  module Store
    module IntelligentLedger
      # Stores whose facts a boundary summarizes (informational).
      RAW_PROOF_STORES = %i[availability_templates availability_overrides order_events].freeze

      # Availability ledger with technician-day boundaries: close a day into a
      # fixed result, settle it into summary/metrics facts, compact it
      # (redirect every source fact to the boundary), plan and execute cleanup
      # guarded by relation edges, and finally purge the raw source facts.
      #
      # The boundary registry is in memory; {#hydrate_boundaries} rebuilds it
      # from the persisted records after a restart.
      class AvailabilityBoundaryLedger
        PRODUCER = { "system" => "availability_boundary_ledger", "version" => "1.0" }.freeze
        FIDELITIES = %i[raw boundary summary].freeze
        GUARDED_REF_STATUSES = %w[raw unresolved].freeze

        # @param store [Igniter::Store::IgniterStore]
        def initialize(store:)
          @store = store
          @ledger = AvailabilityLedger.new(store: store)
          @boundaries = {}
        end

        # --- base facts (delegated) ------------------------------------------

        def write_template(**kwargs) = @ledger.write_template(**kwargs)
        def write_override(**kwargs) = @ledger.write_override(**kwargs)
        def write_order_event(**kwargs) = @ledger.write_order_event(**kwargs)
        def compute_snapshot(**kwargs) = @ledger.compute_snapshot(**kwargs)
        def read_snapshot(**kwargs) = @ledger.read_snapshot(**kwargs)

        # --- boundary lifecycle ----------------------------------------------

        # Opens (and registers) the boundary of a technician day.
        # @return [LedgerBoundary] status :open
        def open_boundary(company_id:, technician_id:, date:)
          boundary = LedgerBoundary.new(subject: { company_id: company_id.to_s, technician_id: technician_id.to_s,
                                                   date: date.to_s })
          @boundaries[boundary.boundary_key] = boundary
        end

        # @return [LedgerBoundary, nil]
        def find_boundary(boundary_key)
          @boundaries[boundary_key]
        end

        # Derives the day's snapshot and fixes it as the boundary's result.
        # @raise [RuntimeError] "boundary already closed"
        # @return [Hash] +boundary:, snapshot_fact:, receipt_fact:, boundary_fact:, closure_receipt_fact:+
        def close_boundary(company_id:, technician_id:, date:, horizon_days: 1)
          key = LedgerBoundary.key_for(company_id: company_id.to_s, technician_id: technician_id.to_s, date: date.to_s)
          boundary = @boundaries[key] || open_boundary(company_id: company_id, technician_id: technician_id, date: date)
          day = date.is_a?(Date) ? date : Date.parse(date.to_s)
          result = @ledger.compute_snapshot(technician_id: technician_id, horizon_start: day, horizon_days: horizon_days)
          snapshot = result[:snapshot_fact]
          boundary.close!(output_fact: snapshot, receipt_fact: result[:receipt_fact],
                          source_fact_ids: snapshot.value[:derived_from_fact_ids] || [],
                          source_fact_refs: snapshot.value[:derived_from_fact_refs] || [])
          boundary_fact = write(:ledger_boundaries, key, boundary_record(boundary))
          closure = write(:ledger_boundary_receipts, key, closure_receipt(boundary))
          { boundary: boundary, snapshot_fact: snapshot, receipt_fact: result[:receipt_fact],
            boundary_fact: boundary_fact, closure_receipt_fact: closure }
        end

        # Writes the summary, metrics and settlement receipt of a closed boundary.
        # @raise [ArgumentError] not found, not closed, or already settled
        # @return [Hash] +boundary:, summary_fact:, metrics_fact:, settlement_receipt:+
        def settle_boundary(boundary_key)
          boundary = @boundaries[boundary_key] or raise ArgumentError, "boundary not found: #{boundary_key}"
          raise ArgumentError, "boundary must be closed before settlement" unless boundary.status == :closed
          raise ArgumentError, "boundary already settled" if boundary.settled?

          output = boundary.output_value || {}
          slots = Array(output[:available_slots])
          blocks = Array(output[:blocked_intervals])
          seconds = output[:available_seconds].to_i
          blocked_seconds = blocks.sum { |b| b[:end].to_f - b[:start].to_f }

          summary = write(:ledger_boundary_summaries, boundary_key, {
                            "boundary_key" => boundary_key, "summary_type" => "availability",
                            "available_seconds" => seconds, "available_slot_count" => slots.size,
                            "blocked_interval_count" => blocks.size,
                            "source_fact_count" => boundary.source_fact_ids.size, "result_hash" => boundary.result_hash
                          })
          metrics = write(:ledger_boundary_metrics, boundary_key, {
                            "boundary_key" => boundary_key,
                            "capacity_percent" => (seconds / 86_400.0 * 100).round(2),
                            "available_hours" => (seconds / 3600.0).round(4),
                            "blocked_hours" => (blocked_seconds / 3600.0).round(4)
                          })
          receipt = write(:ledger_settlement_receipts, boundary_key, settlement_value(boundary, summary, metrics))
          boundary.settle!(settlement_receipt_id: receipt.id)
          { boundary: boundary, summary_fact: summary, metrics_fact: metrics, settlement_receipt: receipt }
        end

        # Logical compaction: records the cleanup receipt and one redirect per
        # source fact, then marks the boundary compacted. Nothing is deleted.
        # @raise [ArgumentError] not found, not closed, or not settled
        # @return [Fact] the cleanup receipt
        def compact_boundary(boundary_key)
          boundary = @boundaries[boundary_key] or raise ArgumentError, "boundary not found: #{boundary_key}"
          raise ArgumentError, "boundary must be closed before compaction" unless boundary.status == :closed
          raise ArgumentError, "boundary must be settled before compaction" unless boundary.settled?

          # One instant for the receipt, the redirects and the boundary, so a
          # boundary hydrated from the receipt has the time it had in memory.
          now = Time.at(Time.now.to_r.floor(3))
          compacted_at = now.iso8601(3)
          receipt = write(:ledger_cleanup_receipts, boundary_key, {
                            "boundary_key" => boundary_key, "output_fact_id" => boundary.output_fact_id,
                            "result_hash" => boundary.result_hash, "source_fact_ids" => boundary.source_fact_ids,
                            "source_fact_refs" => boundary.source_fact_refs,
                            "settlement_receipt_id" => boundary.settlement_receipt_id,
                            "detail_status_after" => "purged", "compacted_at" => compacted_at
                          })
          redirect_sources(boundary).each do |fact_id, hint|
            write(:ledger_fact_redirects, fact_id, redirect_value(boundary, fact_id, hint, receipt.id, compacted_at))
          end
          boundary.compact!(compaction_receipt_id: receipt.id, at: now)
          receipt
        end

        # --- replay ----------------------------------------------------------

        # Boundary-fidelity replay; never reads source facts.
        # @return [Hash]
        def replay(boundary_key)
          boundary = @boundaries[boundary_key]
          return { status: :not_found, boundary_key: boundary_key } unless boundary
          return { status: :open, boundary_key: boundary_key } if boundary.open?

          { status: :ok, fidelity: :boundary, output: boundary.output_value, boundary_id: boundary_key,
            result_hash: boundary.result_hash, detail_status: boundary.compacted? ? :purged : :full }
        end

        # Full-fidelity replay: recomputes from source facts (appending a new
        # snapshot), or reports that the detail was purged.
        # @return [Hash]
        def full_replay(company_id:, technician_id:, date:, horizon_days: 1)
          key = LedgerBoundary.key_for(company_id: company_id.to_s, technician_id: technician_id.to_s, date: date.to_s)
          boundary = @boundaries[key]
          if boundary&.compacted?
            return { status: :detail_unavailable, boundary_id: key, detail_status: :purged,
                     boundary_receipt_id: @store.history(store: :ledger_boundary_receipts, key: key).last&.id }
          end

          day = date.is_a?(Date) ? date : Date.parse(date.to_s)
          snapshot = @ledger.compute_snapshot(technician_id: technician_id, horizon_start: day,
                                              horizon_days: horizon_days)[:snapshot_fact]
          { status: :ok, fidelity: :full, output: snapshot.value, boundary_id: key,
            detail_status: boundary&.detail_status || :full }
        end

        # --- cleanup planning ------------------------------------------------

        # Which boundaries dated before +before+ still block a cleanup.
        # @param before [Time, Date] cutoff (a Date means UTC midnight of that day)
        # @raise [ArgumentError] +before+ is neither a Time nor a Date
        # @return [Hash] a :ready or :blocked plan
        def cleanup_plan(store:, before:, fidelity: :boundary, require_reference_redirects: false)
          cutoff = cutoff_time(before)
          in_window = @boundaries.values.select { |b| boundary_before?(b, cutoff) }
          reasons = {}
          in_window.each { |b| reasons[b.boundary_key] = :open if b.open? }
          in_window.each { |b| reasons[b.boundary_key] = :settlement_required if b.status == :closed && !b.settled? }
          edges = []
          if require_reference_redirects
            in_window.select { |b| b.closed? && b.settled? }.each do |b|
              blocking = blocking_edges(b)
              next if blocking.empty?

              reasons[b.boundary_key] = :external_reference_redirect_required
              edges.concat(blocking)
            end
          end

          plan = { status: reasons.empty? ? :ready : :blocked, store: store, before: cutoff.iso8601,
                   fidelity: fidelity, require_reference_redirects: require_reference_redirects }
          if reasons.empty?
            plan.merge!(blocking_boundaries: [], required_boundary_policies: [LedgerBoundary::POLICY_NAME.to_sym],
                        receipts_to_keep: receipts_to_keep,
                        expected_detail_status: fidelity == :boundary ? :purged : :full)
          else
            plan.merge!(blocking_boundaries: reasons.keys, blocking_reasons: reasons,
                        required_boundary_policies: [LedgerBoundary::POLICY_NAME.to_sym])
          end
          plan[:blocking_relation_edges] = edges if require_reference_redirects
          plan
        end

        # Records that a ready plan was executed (no deletion). The plan is
        # re-checked against the current registry first, so a forged or stale
        # "ready" Hash cannot pass. Idempotent on the plan hash.
        # @return [Hash] :executed_noop, or :blocked with reason :plan_not_ready
        def execute_cleanup_plan(plan)
          return plan_not_ready(plan) unless plan[:status] == :ready

          plan_hash = stable_plan_hash(plan)
          existing = @store.history(store: :ledger_cleanup_execution_receipts, key: plan_hash).last
          if existing
            return { status: :executed_noop, plan_hash: plan_hash, receipt_id: existing.id, deduplicated: true,
                     receipt: existing.value }
          end

          cutoff = plan_cutoff(plan) or return plan_not_ready(plan)
          current = cleanup_plan(store: plan[:store], before: cutoff, fidelity: plan.fetch(:fidelity, :boundary),
                                 require_reference_redirects: plan.fetch(:require_reference_redirects, false))
          return plan_not_ready(current) unless current[:status] == :ready

          value = execution_receipt(plan, plan_hash, cutoff)
          fact = write(:ledger_cleanup_execution_receipts, plan_hash, value)
          { status: :executed_noop, plan_hash: plan_hash, receipt_id: fact.id, deduplicated: false, receipt: value }
        end

        # Physically removes the source facts of an executed cleanup plan,
        # once every guard passes again.
        # @return [Hash] :ready (dry run), :purged or :blocked with a reason
        def purge_cleanup_execution(plan_hash:, dry_run: false)
          receipt_fact = @store.history(store: :ledger_cleanup_execution_receipts, key: plan_hash).last
          return { status: :blocked, reason: :cleanup_execution_receipt_missing, plan_hash: plan_hash } unless receipt_fact

          receipt = receipt_fact.value
          unless receipt[:status].to_s == "executed_noop"
            return { status: :blocked, reason: :cleanup_execution_not_successful, plan_hash: plan_hash,
                     receipt_status: receipt[:status] }
          end

          keys = Array(receipt[:boundary_keys])
          fact_ids = []
          keys.each do |key|
            boundary = @boundaries[key]
            unless boundary&.compacted?
              return { status: :blocked, reason: :boundary_compaction_required, boundary_key: key }
            end

            boundary.source_fact_ids.each do |id|
              unless latest_redirect(id)
                return { status: :blocked, reason: :fact_redirect_missing, fact_id: id, boundary_key: key }
              end

              fact_ids << id
            end
          end

          before = receipt[:before] ? Time.parse(receipt[:before].to_s) : Time.now
          plan = cleanup_plan(store: (receipt[:store] || "order_events").to_sym, before: before,
                              fidelity: (receipt[:fidelity] || "boundary").to_sym,
                              require_reference_redirects: receipt[:require_reference_redirects])
          unless plan[:status] == :ready
            return { status: :blocked, reason: :reference_guard_failed,
                     blocking_boundaries: plan[:blocking_boundaries],
                     blocking_relation_edges: Array(plan[:blocking_relation_edges]) }
          end

          fact_ids.uniq!
          if dry_run
            return { status: :ready, dry_run: true, fact_ids_to_prune: fact_ids, boundary_keys: keys, blockers: [] }
          end

          existing = @store.history(store: :ledger_physical_purge_receipts, key: plan_hash).last
          return { status: :purged, deduplicated: true, plan_hash: plan_hash, receipt_id: existing.id } if existing

          pruned = @store.prune_fact_ids(fact_ids: fact_ids, reason: :boundary_physical_purge,
                                         metadata: { source: "availability_boundary_ledger", plan_hash: plan_hash,
                                                     boundary_keys: keys })
          return { status: :blocked, reason: :store_prune_unsupported, detail: pruned } if pruned[:status] == :unsupported

          fact = write(:ledger_physical_purge_receipts, plan_hash, {
                         "status" => "purged", "plan_hash" => plan_hash, "boundary_keys" => keys,
                         "fact_ids_pruned" => fact_ids, "pruned_count" => pruned[:pruned_count],
                         "missing_count" => pruned[:missing_count], "prune_receipt_id" => pruned[:receipt_id],
                         "purged_at" => Time.now.utc.iso8601(3)
                       })
          { status: :purged, deduplicated: false, plan_hash: plan_hash, receipt_id: fact.id,
            pruned_count: pruned[:pruned_count] }
        end

        # Store compaction activity plus one entry per physical purge receipt,
        # oldest first.
        # @return [Array<Hash>]
        def compaction_activity
          entries = Array(@store.compaction_activity).dup
          @store.history(store: :ledger_physical_purge_receipts).each do |fact|
            value = fact.value
            status = value[:status] || value["status"]
            entries << { kind: :boundary_physical_purge, executor: :boundary_ledger, store: nil,
                         status: status&.to_sym || :purged, reason: :boundary_physical_purge,
                         fact_count: (value[:pruned_count] || value["pruned_count"]).to_i,
                         receipt_id: fact.id, occurred_at: fact.transaction_time }
          end
          entries.sort_by { |e| e[:occurred_at].to_f }
        end

        # --- recovery --------------------------------------------------------

        # Rebuilds registry entries for persisted boundaries not yet known.
        # Idempotent; writes nothing.
        # @return [Hash] +status: :ok, hydrated_count:, skipped_count:, warnings:+
        def hydrate_boundaries
          hydrated = 0
          skipped = 0
          warnings = []
          @store.history(store: :ledger_boundaries).group_by(&:key).each do |key, facts|
            next if @boundaries.key?(key)

            if @store.history(store: :ledger_boundary_receipts, key: key).empty?
              skipped += 1
              warnings << "boundary #{key}: closure receipt missing, skipped"
              next
            end

            @boundaries[key] = hydrate_one(key, latest(facts).value)
            hydrated += 1
          end
          { status: :ok, hydrated_count: hydrated, skipped_count: skipped, warnings: warnings }
        end

        # --- references ------------------------------------------------------

        # Resolves a (possibly compacted) source fact id at a fidelity.
        # @raise [ArgumentError] unsupported fidelity
        # @return [Hash]
        def resolve_ref(fact_id, fidelity: :boundary, assume_compacted: false)
          raise ArgumentError, "unsupported fidelity: #{fidelity.inspect}" unless FIDELITIES.include?(fidelity)

          redirect = latest_redirect(fact_id)
          return { status: :not_found, original_fact_id: fact_id } unless redirect

          evidence = redirect_evidence(redirect)
          case fidelity
          when :raw
            fact = assume_compacted ? nil : hinted_fact(fact_id, redirect[:original_store])
            return { status: :ok, kind: :raw_fact, fact: fact } if fact

            { status: :detail_unavailable, original_fact_id: fact_id, boundary_key: redirect[:boundary_key],
              required_fidelity: :raw, available_fidelity: :boundary, evidence: evidence }
          else
            { status: :redirected, kind: fidelity == :boundary ? :boundary_ref : :summary_ref,
              original_fact_id: fact_id, boundary_key: redirect[:boundary_key], detail_status: :purged,
              evidence: evidence }
          end
        end

        # Records a relation edge from a fact to another fact (by id only).
        # @return [Hash] +edge_id:, edge_fact:+
        def link_fact(from_store:, from_key:, from_fact_id:, to_fact_id:, relation:)
          ref = @store.fact_ref(to_fact_id)
          edge_id = SecureRandom.uuid
          edge = { "edge_id" => edge_id, "relation" => relation.to_s, "from_store" => from_store.to_s,
                   "from_key" => from_key.to_s, "from_fact_id" => from_fact_id.to_s,
                   "to_store" => ref && ref[:store].to_s, "to_key" => ref && ref[:key].to_s,
                   "to_fact_id" => to_fact_id.to_s, "to_boundary_key" => nil,
                   "ref_status" => ref ? "raw" : "unresolved", "fidelity" => "raw", "evidence" => {} }
          edge_fact = write(:ledger_relation_edges, edge_id, edge)
          write_target_entry(edge)
          { edge_id: edge_id, edge_fact: edge_fact }
        end

        # Resolves an edge's target at a fidelity.
        # @return [Hash]
        def resolve_edge(edge_id, fidelity: :boundary, assume_compacted: false)
          facts = @store.history(store: :ledger_relation_edges, key: edge_id)
          return { status: :not_found, edge_id: edge_id } if facts.empty?

          edge = latest(facts).value
          to_id = edge[:to_fact_id]
          return unresolved_edge(to_id) if edge[:ref_status].to_s == "unresolved"

          if fidelity == :raw && !assume_compacted && (fact = @store.fact_by_id(to_id))
            return { status: :ok, ref_status: :raw, fidelity: :raw, to_fact: fact }
          end

          resolved = resolve_ref(to_id, fidelity: fidelity, assume_compacted: assume_compacted)
          case resolved[:status]
          when :ok then { status: :ok, ref_status: :raw, fidelity: :raw, to_fact: resolved[:fact] }
          when :redirected
            { status: :ok, ref_status: :redirected, fidelity: :boundary, to_boundary_key: resolved[:boundary_key],
              evidence: resolved[:evidence] }
          when :detail_unavailable then { status: :detail_unavailable, to_fact_id: to_id, evidence: resolved[:evidence] }
          else unresolved_edge(to_id)
          end
        end

        # Moves raw edges whose target was compacted onto the boundary.
        # @return [Hash] +refreshed_count:, skipped_count:, unresolved_count:+
        def refresh_relation_edges(assume_compacted: false)
          counts = { refreshed_count: 0, skipped_count: 0, unresolved_count: 0 }
          @store.history(store: :ledger_relation_edges).group_by(&:key).each_value do |facts|
            edge = latest(facts).value
            if edge[:ref_status].to_s != "raw" || (!assume_compacted && @store.fact_by_id(edge[:to_fact_id]))
              counts[:skipped_count] += 1
              next
            end

            redirect = latest_redirect(edge[:to_fact_id])
            unless redirect
              counts[:unresolved_count] += 1
              next
            end

            refreshed = stringify_top(edge).merge(
              "ref_status" => "redirected", "fidelity" => "boundary", "to_boundary_key" => redirect[:boundary_key],
              "evidence" => redirect_evidence(redirect).transform_keys(&:to_s), "refreshed_at" => Time.now.iso8601(3)
            )
            write(:ledger_relation_edges, refreshed["edge_id"], refreshed)
            write_target_entry(refreshed)
            counts[:refreshed_count] += 1
          end
          counts
        end

        # Re-derives the target index from the latest version of every edge.
        # @return [Hash] +rebuilt_count:+
        def rebuild_relation_edge_target_index
          rebuilt = 0
          @store.history(store: :ledger_relation_edges).group_by(&:key).each_value do |facts|
            edge = stringify_top(latest(facts).value)
            next if edge["to_fact_id"].to_s.empty?

            write_target_entry(edge)
            rebuilt += 1
          end
          { rebuilt_count: rebuilt }
        end

        # Records a fact that arrived after its boundary closed; the boundary
        # and its result stay unchanged (correction policy).
        # @raise [ArgumentError] boundary unknown or still open
        # @return [Fact] the late-fact receipt
        def write_late_fact(boundary_key:, fact_value:, fact_type:)
          boundary = @boundaries[boundary_key] or raise ArgumentError, "boundary not found: #{boundary_key}"
          raise ArgumentError, "boundary is not closed" unless boundary.closed?

          write(:late_fact_receipts, "late/#{boundary_key}/#{SecureRandom.hex(8)}", {
                  "boundary_key" => boundary_key, "fact_type" => fact_type.to_s, "fact_value" => fact_value,
                  "original_result_hash" => boundary.result_hash,
                  "boundary_status_at_arrival" => boundary.status.to_s,
                  "settlement_status_at_arrival" => boundary.settlement_status.to_s,
                  "recorded_at" => Time.now.iso8601(3), "disposition" => "correction_boundary"
                })
        end

        private

        def write(store, key, value)
          @store.write(store: store, key: key, value: value, producer: PRODUCER)
        end

        # The fact with the greatest transaction_time; ties go to the later append.
        def latest(facts)
          facts.reduce { |best, f| f.transaction_time >= best.transaction_time ? f : best }
        end

        def latest_redirect(fact_id)
          facts = @store.history(store: :ledger_fact_redirects, key: fact_id.to_s)
          facts.empty? ? nil : latest(facts).value
        end

        def redirect_evidence(redirect)
          { boundary_output_fact_id: redirect[:boundary_output_fact_id],
            boundary_receipt_id: redirect[:boundary_receipt_id],
            settlement_receipt_id: redirect[:settlement_receipt_id],
            compaction_receipt_id: redirect[:compaction_receipt_id] }
        end

        # A live fact, unless the redirect names a different store for it.
        def hinted_fact(fact_id, store_hint)
          fact = @store.fact_by_id(fact_id)
          return nil unless fact
          return fact if store_hint.nil? || store_hint.to_s.empty? || store_hint.to_s == "unknown"

          fact.store.to_s == store_hint.to_s ? fact : nil
        end

        def unresolved_edge(to_fact_id)
          { status: :unresolved, ref_status: :unresolved, to_fact_id: to_fact_id }
        end

        def stringify_top(hash)
          hash.each_with_object({}) { |(k, v), out| out[k.to_s] = v }
        end

        def write_target_entry(edge)
          write(:ledger_relation_edge_targets, edge["to_fact_id"], {
                  "to_fact_id" => edge["to_fact_id"], "edge_id" => edge["edge_id"],
                  "from_store" => edge["from_store"], "from_fact_id" => edge["from_fact_id"],
                  "to_store" => edge["to_store"], "to_boundary_key" => edge["to_boundary_key"],
                  "ref_status" => edge["ref_status"], "relation" => edge["relation"],
                  "evidence" => edge["evidence"] || {}
                })
        end

        # Latest target-index state per edge pointing at each source fact;
        # raw or unresolved ones block a reference-guarded cleanup.
        def blocking_edges(boundary)
          boundary.source_fact_ids.flat_map do |id|
            entries = @store.history(store: :ledger_relation_edge_targets, key: id.to_s)
            entries.group_by { |f| f.value[:edge_id] }.filter_map do |edge_id, facts|
              status = latest(facts).value[:ref_status].to_s
              next unless GUARDED_REF_STATUSES.include?(status)

              { edge_id: edge_id, to_fact_id: id, ref_status: status.to_sym, boundary_key: boundary.boundary_key }
            end
          end
        end

        # A Date means UTC midnight; anything else is refused instead of
        # silently comparing as "never before" (0.5.2 made such plans :ready).
        def cutoff_time(before)
          case before
          when Time then before
          when DateTime then before.to_time
          when Date then Time.utc(before.year, before.month, before.day)
          else raise ArgumentError, "cleanup cutoff must be a Time or Date, got #{before.inspect}"
          end
        end

        # The cutoff a plan Hash names, or nil when it names none usable.
        def plan_cutoff(plan)
          before = plan[:before]
          before.is_a?(String) ? Time.parse(before) : cutoff_time(before)
        rescue ArgumentError
          nil
        end

        def boundary_before?(boundary, cutoff)
          date = Date.parse(boundary.subject[:date].to_s)
          Time.utc(date.year, date.month, date.day) < cutoff
        rescue ArgumentError, TypeError, NoMethodError
          false
        end

        def receipts_to_keep
          @boundaries.values.select(&:closed?).filter_map do |b|
            @store.history(store: :ledger_boundary_receipts, key: b.boundary_key).last&.id
          end
        end

        def plan_not_ready(plan)
          { status: :blocked, reason: :plan_not_ready, blocking_boundaries: Array(plan[:blocking_boundaries]),
            blocking_relation_edges: Array(plan[:blocking_relation_edges]) }
        end

        def stable_plan_hash(plan)
          parts = [plan[:store].to_s, plan[:before].to_s, plan.fetch(:fidelity, :boundary).to_s,
                   plan.fetch(:require_reference_redirects, false).to_s,
                   Array(plan[:receipts_to_keep]).map(&:to_s).sort.join(",")]
          Digest::SHA256.hexdigest(parts.join("|"))
        end

        def execution_receipt(plan, plan_hash, cutoff)
          flag = plan.fetch(:require_reference_redirects, false) ? true : false
          {
            "status" => "executed_noop", "plan_hash" => plan_hash, "store" => plan[:store].to_s,
            "before" => plan[:before].to_s, "fidelity" => plan.fetch(:fidelity, :boundary).to_s,
            "require_reference_redirects" => flag,
            "expected_detail_status" => plan.fetch(:expected_detail_status, :purged).to_s,
            "boundary_keys" => @boundaries.values.select { |b| b.closed? && boundary_before?(b, cutoff) }
                                          .map(&:boundary_key),
            "receipts_to_keep" => Array(plan[:receipts_to_keep]),
            "blocking_relation_edges_count" => 0,
            "relation_guard" => { "checked" => flag, "raw_edges" => 0, "unresolved_edges" => 0,
                                  "redirected_edges" => 0 },
            "executed_at" => Time.now.utc.iso8601(3)
          }
        end

        def boundary_record(boundary)
          { "boundary_key" => boundary.boundary_key, "policy_name" => LedgerBoundary::POLICY_NAME,
            "subject" => boundary.subject.each_with_object({}) { |(k, v), out| out[k.to_s] = v.to_s },
            "status" => "closed", "output_fact_id" => boundary.output_fact_id,
            "receipt_fact_id" => boundary.receipt_fact_id, "result_hash" => boundary.result_hash,
            "source_fact_ids" => boundary.source_fact_ids, "source_fact_refs" => boundary.source_fact_refs,
            "detail_status" => boundary.detail_status.to_s, "closed_at" => boundary.closed_at.iso8601(3),
            "rule_version" => LedgerBoundary::RULE_VERSION }
        end

        def closure_receipt(boundary)
          { "boundary_key" => boundary.boundary_key, "output_fact_id" => boundary.output_fact_id,
            "receipt_fact_id" => boundary.receipt_fact_id, "result_hash" => boundary.result_hash,
            "source_fact_ids" => boundary.source_fact_ids, "source_fact_refs" => boundary.source_fact_refs,
            "detail_status" => boundary.detail_status.to_s, "closed_at" => boundary.closed_at.iso8601(3) }
        end

        def settlement_value(boundary, summary, metrics)
          key = boundary.boundary_key
          transforms = [["availability_summary", summary], ["availability_metrics", metrics]].map do |name, fact|
            { "transform_name" => name, "transform_version" => "1.0", "input_boundary_key" => key,
              "input_result_hash" => boundary.result_hash, "output_fact_id" => fact.id, "status" => "ok" }
          end
          { "boundary_key" => key, "settlement_status" => "settled",
            "transform_names" => %w[availability_summary availability_metrics],
            "output_fact_ids" => { "availability_summary" => summary.id, "availability_metrics" => metrics.id },
            "result_hash" => boundary.result_hash, "transforms" => transforms, "settled_at" => Time.now.iso8601(3) }
        end

        # [fact_id, {"store", "role"} or nil] per source fact; refs when known.
        def redirect_sources(boundary)
          if boundary.source_fact_refs.any?
            boundary.source_fact_refs.map { |ref| [ref["id"], ref] }
          else
            boundary.source_fact_ids.map { |id| [id, nil] }
          end
        end

        def redirect_value(boundary, fact_id, ref, compaction_receipt_id, compacted_at)
          value = { "original_fact_id" => fact_id, "original_store" => ref ? ref["store"] : "unknown" }
          value["source_role"] = ref["role"] if ref
          value.merge(
            "boundary_key" => boundary.boundary_key, "boundary_policy" => LedgerBoundary::POLICY_NAME,
            "boundary_output_fact_id" => boundary.output_fact_id, "boundary_receipt_id" => boundary.receipt_fact_id,
            "settlement_receipt_id" => boundary.settlement_receipt_id,
            "compaction_receipt_id" => compaction_receipt_id, "detail_status" => "purged",
            "reference_role" => "included_in_boundary", "compacted_at" => compacted_at
          )
        end

        def hydrate_one(key, record)
          settlement = @store.history(store: :ledger_settlement_receipts, key: key).last
          cleanup = @store.history(store: :ledger_cleanup_receipts, key: key).last
          output_fact = @store.fact_by_id(record[:output_fact_id])
          output_value = output_fact && output_fact.store == :availability_snapshots ? output_fact.value : nil
          compacted_at = cleanup && parse_time(cleanup.value[:compacted_at])
          LedgerBoundary.from_persisted(boundary_record: record, output_value: output_value,
                                        settlement_receipt_id: settlement&.id, compaction_receipt_id: cleanup&.id,
                                        compacted_at: compacted_at)
        end

        def parse_time(value)
          value.nil? ? nil : Time.parse(value.to_s)
        rescue ArgumentError
          nil
        end
      end
    end
  end
end
