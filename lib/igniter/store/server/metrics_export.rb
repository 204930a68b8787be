# frozen_string_literal: true

module Igniter
  module Store
    module Server
      # The metric families a server reads at scrape time (gauges of what
      # is, rather than counters of what happened): changefeed, subscribers
      # and their lag, storage sizes, what the start-up recovery found, the
      # process start time; and the JSON document of `GET /v1/metrics`.
      # Names and units: README "Metrics".
      module MetricsExport
        # Prefix of every metric name (see {ServerMetrics::PREFIX}).
        PREFIX = ServerMetrics::PREFIX

        module_function

        # `GET /v1/metrics`: the 0.5.2 keys (observability `metrics`) and
        # the labelled series `GET /metrics` shows, with the same numbers.
        # @param snapshot [Hash] {ServerMetrics#snapshot}
        # @param families [Array<Hash>]
        # @return [Hash]
        def document(snapshot, families)
          snapshot.slice(*Events::OBSERVED_METRICS).merge(series: combine(families))
        end

        # One family per name (the first one's help and type), samples of
        # the others appended: a server and its HTTP adapter both report
        # `subscribers`, each for its own transport.
        # @param families [Array<Hash>]
        # @return [Array<Hash>]
        def combine(families)
          families.each_with_object({}) do |family, out|
            if out.key?(family[:name])
              out[family[:name]] = out[family[:name]].merge(samples: out[family[:name]][:samples] + family[:samples])
            else
              out[family[:name]] = family
            end
          end.values
        end

        # @param server [StoreServer]
        # @return [Array<Hash>] metric families
        def server_families(server)
          feed = server.changefeed.snapshot
          [
            gauge(:start_time_seconds, "When the server started, in seconds since the epoch",
                  [[{}, server.started_at.to_f]]),
            gauge(:build_info, "Version and core path (native or pure) of the running ledger",
                  [[{ version: VERSION, core: CORE }, 1]]),
            gauge(:facts, "Live facts in the ledger", [[{}, server.store.fact_count]]),
            gauge(:subscribers, "Subscribers connected now (op: push subscriptions, http: event streams)",
                  [[{ transport: :op }, server.push_subscribers]]),
            gauge(:subscriber_lag_events, "Events the most behind subscriber of a transport has not received yet",
                  [[{ transport: :op }, subscriber_lag(server.changefeed)]]),
            counter(:changefeed_emitted_total, "Facts published to the changefeed", [[{}, feed[:emitted_total]]]),
            counter(:changefeed_delivered_total, "Changefeed events handed to subscribers",
                    [[{}, feed[:delivered_total]]]),
            counter(:changefeed_dropped_total, "Changefeed events lost: evicted from the ring or over a " \
                                               "subscriber's queue",
                    [[{ reason: :ring }, feed[:dropped_total]], [{ reason: :overflow }, feed[:overflow_dropped_total]]]),
            counter(:changefeed_failed_total, "Subscriber handlers that failed", [[{}, feed[:failed_total]]]),
            gauge(:changefeed_buffered_events, "Events the changefeed ring holds for replay", [[{}, feed[:buffered]]]),
            gauge(:changefeed_queued_events, "Events waiting in subscriber queues", [[{}, feed[:total_queued]]]),
            gauge(:storage_bytes, "Bytes of the ledger's files", storage_samples(server.storage_facts)),
            *recovery_families(server.recovery),
            *sync_families(server.store.backend)
          ]
        end

        # The backend's fdatasync durations (file and segmented backends;
        # none under `--durability flush`).
        # @param backend [Backend, nil]
        # @return [Array<Hash>] one histogram family, or none
        def sync_families(backend)
          return [] unless Capabilities.of(backend).include?(Capabilities::SYNC_STATS)

          stats = backend.sync_stats
          value = MetricRegistry.histogram_value(stats[:bounds], stats[:counts], stats[:sum], stats[:count])
          [{ name: "#{PREFIX}storage_fsync_duration_seconds", type: :histogram,
             help: "Time an fdatasync of the ledger's data file (WAL or open segment) took",
             samples: [{ labels: {}, value: value }] }]
        end

        # @param adapter [HTTPAdapter]
        # @return [Array<Hash>] SSE streams, their lag, open connections and puma's threads
        def http_families(adapter)
          lags = adapter.stream_lags
          pool = adapter.pool_stats
          families = [
            gauge(:subscribers, "Event streams (SSE) open now", [[{ transport: :http }, adapter.open_streams]]),
            gauge(:subscriber_lag_events, "Events the most behind event stream has not sent yet",
                  [[{ transport: :http }, lags.max || 0]]),
            gauge(:connections, "Connections open now", [[{ transport: :http }, adapter.open_connections]])
          ]
          return families if pool.empty?

          families << gauge(:http_threads, "Puma worker threads: running (started) and spare (could take a " \
                                           "request now)",
                            [[{ state: :running }, pool[:running].to_i], [{ state: :spare }, pool[:pool_capacity].to_i]])
          families << gauge(:http_backlog_requests, "Requests waiting for a puma worker", [[{}, pool[:backlog].to_i]])
        end

        def recovery_families(report)
          files = report ? report["files"] : []
          spans = files.sum { |file| Array(file["quarantined"]).size }
          [
            gauge(:recovery_damaged_files, "Ledger files the start-up recovery found damaged",
                  [[{}, report ? report["damaged_files"] : 0]]),
            gauge(:recovery_cut_bytes, "Bytes the start-up recovery cut from the ledger's files",
                  [[{}, files.sum { |file| file["truncated_bytes"].to_i }]]),
            gauge(:recovery_salvaged_frames, "Valid frames kept after damage at start-up",
                  [[{}, files.sum { |file| file["salvaged_frames"].to_i }]]),
            gauge(:recovery_quarantined_spans, "Damaged spans copied to quarantine at start-up", [[{}, spans]])
          ]
        end

        def subscriber_lag(changefeed)
          changefeed.subscriber_snapshot.map { |subscriber| subscriber[:queue_size] }.max || 0
        end

        def storage_samples(storage)
          return [] unless storage.is_a?(Hash)

          if storage["backend"] == "file"
            [[{ file: :wal }, storage["wal_bytes"].to_i], [{ file: :snapshot }, storage["snapshot_bytes"].to_i]]
          elsif storage["stores"].is_a?(Hash)
            bytes = storage["stores"].values.grep(Hash).sum { |store| store["byte_size"].to_i }
            [[{ file: :segments }, bytes]]
          else []
          end
        end

        def gauge(short, help, samples)
          family(short, :gauge, help, samples)
        end

        def counter(short, help, samples)
          family(short, :counter, help, samples)
        end

        def family(short, type, help, samples)
          { name: "#{PREFIX}#{short}", type: type, help: help,
            samples: samples.map { |labels, value| { labels: labels, value: value.to_i == value ? value.to_i : value } } }
        end

        private_class_method :sync_families, :recovery_families, :subscriber_lag, :storage_samples, :gauge, :counter, :family
      end
    end
  end
end
