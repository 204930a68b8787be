# frozen_string_literal: true

module Igniter
  module Store
    module Protocol
      class Interpreter
        # Metadata export (OP2), storage passthrough, compaction activity and
        # the observability snapshot (doc/protocol.md "Snapshots").
        module Snapshots
          # Everything the store knows about its shape. Registries are copied,
          # so callers cannot mutate them through the snapshot (0.5.2 handed
          # out the live Hashes). +storage+ appears only for a backend that
          # reports storage statistics.
          # @return [Hash]
          def metadata_snapshot
            graph = @store.schema_graph
            descriptors = graph.descriptor_snapshot
            snapshot = {
              schema_version: 1,
              stores: Protocol.deep_copy(descriptors[:stores]),
              histories: Protocol.deep_copy(descriptors[:histories]),
              access_paths: Protocol.deep_copy(graph.metadata_snapshot),
              relations: graph.relation_snapshot,
              projections: Protocol.deep_copy(graph.projection_snapshot),
              commands: Protocol.deep_copy(descriptors[:commands]),
              effects: Protocol.deep_copy(descriptors[:effects]),
              derivations: Protocol.deep_copy(graph.derivation_snapshot),
              scatters: graph.scatter_snapshot,
              subscriptions: Protocol.deep_copy(descriptors[:subscriptions]),
              retention: graph.retention_snapshot
            }
            storage = @store.storage_stats
            snapshot[:storage] = storage unless storage.nil?
            snapshot
          end

          # @return [Hash] +stores, histories, commands, effects, subscriptions+ (copies)
          def descriptor_snapshot
            Protocol.deep_copy(@store.schema_graph.descriptor_snapshot)
          end

          # @return [Hash, nil] the backend's String-keyed statistics, unchanged
          def storage_stats(store: nil)
            @store.storage_stats(store: store)
          end

          # @return [Hash, nil] the backend's String-keyed manifest, unchanged
          def segment_manifest(store: nil)
            @store.segment_manifest(store: store)
          end

          # Compaction-like events (doc/protocol.md "Snapshots"), filtered.
          # @param kind [Symbol, String, nil] e.g. +:retention_compaction+
          # @param since [#to_f, nil] inclusive lower bound on +occurred_at+
          # @param limit [#to_i, nil] at most this many (oldest first)
          # @raise [ArgumentError] for a negative limit
          # @return [Hash] +schema_version, generated_at, filters, activity, count+
          def compaction_activity(store: nil, kind: nil, since: nil, limit: nil)
            raise ArgumentError, "compaction_activity: limit must be >= 0, got #{limit.inspect}" if limit && limit.to_i.negative?

            entries = @store.compaction_activity(store: store && Protocol.name!(store, "store"))
            entries = entries.select { |e| e[:kind].to_s == kind.to_s } if kind
            entries = entries.select { |e| e[:occurred_at] >= since.to_f } if since
            entries = entries.first(limit.to_i) if limit
            { schema_version: 1, generated_at: Protocol.iso_now,
              filters: { store: store&.to_s, kind: kind&.to_s, since: since&.to_f, limit: limit&.to_i },
              activity: entries, count: entries.size }
          end

          # Health view of the store (doc/protocol.md "Snapshots"); only +generated_at+ varies.
          # @return [Hash]
          def observability_snapshot
            storage = begin
              @store.storage_stats
            rescue StandardError
              nil
            end
            { schema_version: 1, generated_at: Protocol.iso_now, status: :ready, uptime_ms: nil, metrics: nil,
              alerts: storage_alerts(storage), storage: storage, server: nil }
          end

          private

          def storage_alerts(storage)
            return [] unless storage

            stores = storage["stores"].is_a?(Hash) ? storage["stores"].values : []
            alerts = []
            check_alert(alerts, :quarantine_receipt_count, stores.sum { |s| s["quarantine_receipt_count"].to_i })
            check_alert(alerts, :storage_byte_size, stores.sum { |s| s["byte_size"].to_i })
            alerts
          end

          def check_alert(alerts, type, current)
            threshold = @alert_thresholds[type]
            return if threshold.nil? || current <= threshold

            alerts << { type: type, threshold: threshold, current_value: current,
                        message: "#{type} exceeded threshold: #{current} > #{threshold}" }
          end
        end
      end
    end
  end
end
