# frozen_string_literal: true

require "set"
require_relative "../../store/census"

module Igniter
  module Ledger
    class Console
      # What the console shows, as plain JSON-ready Hashes: the pages render
      # them and the `api/` endpoints return them unchanged. Only the store's
      # public read API is used; nothing here writes.
      class ReadModel
        # Rows per page when none is asked for.
        DEFAULT_PER_PAGE = 50
        # Largest page a request may ask for.
        MAX_PER_PAGE = 500
        # Longest causation chain followed from one fact (a guard against
        # pathological ledgers; a chain this long is cut and says so).
        MAX_CHAIN = 1_000

        # @return [Store::IgniterStore]
        attr_reader :store

        # @param store [Store::IgniterStore]
        def initialize(store)
          @store = store
        end

        # Whether the store's reads take a valid time (`read(..., valid_at:)`).
        # This is the switch for the console's "valid at" control: when it
        # is true, {#keys} and {#history} pass +valid_at+ on (doc/bitemporal.md)
        # and the pages enable the field; a store whose reads take no valid
        # time (another read API behind the console) shows it disabled.
        # @return [Boolean]
        def valid_time_reads?
          @store.method(:read).parameters.any? { |_, name| name == :valid_at }
        end

        # @return [Hash] {Store::Census} of every live fact
        def census
          Store::Census.of(@store.fact_log_all)
        end

        # The keys of one store with their latest values, sorted by key, paged.
        #
        # @param store [String] store name
        # @param scope [String, nil] a registered scope of the store: only its members
        # @param coords [TimeCoordinates]
        # @param page [Integer] 1-based; clamped to the pages there are
        # @param per_page [Integer] clamped to 1..MAX_PER_PAGE
        # @return [Hash] `store, scope, scopes, time, total, page, per_page, pages, rows`
        # @raise [BadRequest] for a missing store or an unregistered scope
        def keys(store:, coords:, scope: nil, page: 1, per_page: DEFAULT_PER_PAGE)
          name = store_name!(store)
          versions = Hash.new(0)
          latest = {}
          @store.history(store: name, as_of: coords.as_of).each do |fact|
            versions[fact.key] += 1
            latest[fact.key] = fact
          end
          rows = scope.to_s.empty? ? latest.values : scope_members(name, scope, coords)
          rows = valid_rows(name, rows, coords) if valid_at_applied?(coords)
          rows = rows.sort_by { |fact| fact.key.to_s }
          per_page = per_page.to_i.clamp(1, MAX_PER_PAGE)
          pages = [(rows.size + per_page - 1) / per_page, 1].max
          page = page.to_i.clamp(1, pages)
          slice = rows[(page - 1) * per_page, per_page] || []
          { store: name.to_s, scope: scope.to_s.empty? ? nil : scope.to_s, scopes: scopes_of(name),
            time: time_info(coords), total: rows.size, page: page, per_page: per_page, pages: pages,
            rows: slice.map { |fact| fact_h(fact).merge(versions: versions[fact.key]) } }
        end

        # Every version of one key, oldest first, each with its field-by-field
        # diff against the version before, and which version was current at
        # +coords.as_of+.
        # @return [Hash] `store, key, time, found, value_as_of, current_index, versions, lineage`
        # @raise [BadRequest] for a missing store or key
        def history(store:, key:, coords:)
          name = store_name!(store)
          raise BadRequest, "key is required" if key.nil?

          facts = @store.history(store: name, key: key)
          current = current_version(name, key, facts, coords)
          previous = nil
          versions = facts.each_with_index.map do |fact, index|
            diff = index.zero? ? Diff.initial(fact.value) : Diff.between(previous.value, fact.value)
            previous = fact
            fact_h(fact).merge(version: index + 1, diff: diff, current: index == current,
                               later: !coords.as_of.nil? && fact.transaction_time > coords.as_of)
          end
          lineage = @store.lineage(store: name, key: key)
          { store: name.to_s, key: key.to_s, time: time_info(coords), found: !facts.empty?,
            value_as_of: value_at(name, key, coords),
            current_version: current && current + 1, versions: versions,
            lineage: { depth: lineage[:depth], proof_hash: lineage[:proof_hash], derived_by: lineage[:derived_by] } }
        end

        # One fact with its causation chain: the fact it names as its cause,
        # that fact's cause, and so on (across stores), and the facts of the
        # same key that name it as their cause.
        # @param id [String]
        # @return [Hash] `found, id` and, when found, `fact, causation_chain, chain_end, caused, lineage`
        # @raise [BadRequest] without an id
        def fact(id)
          raise BadRequest, "id is required" if id.to_s.empty?

          fact = @store.fact_by_id(id)
          return { found: false, id: id.to_s } unless fact

          chain, chain_end = causes_of(fact)
          same_key = @store.history(store: fact.store, key: fact.key)
          lineage = @store.lineage(store: fact.store, key: fact.key)
          { found: true, id: fact.id, fact: fact_h(fact), causation_chain: chain, chain_end: chain_end,
            caused: same_key.select { |f| f.causation == fact.id }.map { |f| fact_h(f) },
            lineage: { depth: lineage[:depth], proof_hash: lineage[:proof_hash], derived_by: lineage[:derived_by] } }
        end

        # Compaction receipts and activity, and whatever the backend reports
        # about recovery (quarantined spans) and storage. Each backend report
        # is shown as it comes; one that raises is shown as its error.
        # @return [Hash] `backend, recovery, quarantined, storage_stats, compaction_receipts, compaction_activity`
        def storage
          backend = @store.backend
          recovery = reported { backend.recovery if Store::Capabilities.of(backend).include?(Store::Capabilities::RECOVERY) }
          { backend: backend.nil? ? "memory (no backend)" : backend.class.name,
            recovery: recovery, quarantined: quarantined_spans(recovery),
            storage_stats: reported { @store.storage_stats },
            compaction_receipts: @store.compaction_receipts.map { |f| fact_h(f) },
            compaction_activity: @store.compaction_activity }
        end

        # @param fact [Fact, CoercedFact]
        # @return [Hash] the fact's fields, JSON-ready
        def fact_h(fact)
          { id: fact.id, store: fact.store.to_s, key: fact.key, value: fact.value, value_hash: fact.value_hash,
            causation: fact.causation, transaction_time: fact.transaction_time, valid_time: fact.valid_time,
            schema_version: fact.schema_version, producer: fact.producer, derivation: fact.derivation }
        end

        private

        def store_name!(store)
          raise BadRequest, "store is required" if store.to_s.empty?

          store.to_s.to_sym
        end

        def scope_members(name, scope, coords)
          @store.query(store: name, scope: scope.to_sym, as_of: coords.as_of)
        rescue ArgumentError => e
          raise BadRequest, e.message
        end

        def scopes_of(name)
          @store.schema_graph.paths_for(name).filter_map { |path| path.scope&.to_s }.uniq.sort
        end

        def time_info(coords)
          { as_of: coords.as_of, valid_at: coords.valid_at, valid_time_reads: valid_time_reads?,
            valid_at_applied: valid_at_applied?(coords) }
        end

        def valid_at_applied?(coords)
          !coords.valid_at.nil? && valid_time_reads?
        end

        # The rows' keys with the fact valid at +coords.valid_at+ as known at
        # +coords.as_of+ (doc/bitemporal.md); a key with none is left out.
        def valid_rows(name, rows, coords)
          rows.filter_map do |fact|
            @store.fact_valid_at(store: name, key: fact.key, as_of: coords.as_of, valid_at: coords.valid_at)
          end
        end

        # The index of the version the coordinates show: the fact valid at
        # +valid_at+ when applied, else the last one recorded by +as_of+.
        def current_version(name, key, facts, coords)
          if valid_at_applied?(coords)
            shown = @store.fact_valid_at(store: name, key: key, as_of: coords.as_of, valid_at: coords.valid_at)
            return shown && facts.index { |f| f.id == shown.id }
          end
          facts.rindex { |f| coords.as_of.nil? || f.transaction_time <= coords.as_of }
        end

        def value_at(name, key, coords)
          return @store.read(store: name, key: key, as_of: coords.as_of) unless valid_at_applied?(coords)

          @store.read(store: name, key: key, as_of: coords.as_of, valid_at: coords.valid_at)
        end

        # @return [Array(Array<Hash>, String)] the causes, and why the walk ended
        def causes_of(fact)
          chain = []
          seen = Set[fact.id]
          cause_id = fact.causation
          loop do
            return [chain, "origin"] if cause_id.nil?
            return [chain, "cycle"] if seen.include?(cause_id)
            return [chain, "cut at #{MAX_CHAIN}"] if chain.size >= MAX_CHAIN

            cause = @store.fact_by_id(cause_id)
            return [chain + [{ id: cause_id, missing: true }], "missing"] unless cause

            chain << fact_h(cause)
            seen << cause_id
            cause_id = cause.causation
          end
        end

        def reported
          yield
        rescue StandardError => e
          { error: "#{e.class}: #{Store::TransportSupport.safe_message(e)}" }
        end

        # Every `quarantined:` list anywhere in a recovery report (a file
        # backend has one; a segmented backend one per file), flattened.
        def quarantined_spans(report)
          case report
          when Hash
            report.flat_map do |name, value|
              name.to_s == "quarantined" && value.is_a?(Array) ? value.select { |s| s.is_a?(Hash) } : quarantined_spans(value)
            end
          when Array then report.flat_map { |item| quarantined_spans(item) }
          else []
          end
        end
      end
    end
  end
end
