# frozen_string_literal: true

require_relative "get_handler"

module Igniter
  module Store
    class HTTPAdapter
      # `GET /v1/health`: the provider's snapshot, or a static ready payload.
      # Always 200, also while draining (liveness, not readiness).
      class HealthHandler < GetHandler
        # The health answer without a health provider.
        DEFAULT = { protocol: "igniter_store", schema_version: 1, status: "ready" }.freeze

        private

        def get(_env)
          provided_json { DEFAULT }
        end
      end

      # `GET /v1/ready`: 200 while the provider is truthy (default), else 503.
      class ReadyHandler < GetHandler
        private

        def get(_env)
          ready = @provider.nil? || @provider.call
          ready ? json_response(200, { status: "ready" }) : json_response(503, { status: "unavailable" })
        end
      end

      # `GET /v1/status`: the provider's observability snapshot, else the
      # interpreter's.
      class StatusHandler < GetHandler
        # @param interpreter [Protocol::Interpreter]
        # @param provider [#call, nil]
        def initialize(interpreter, provider)
          super(provider, interpreter: interpreter)
        end

        private

        def get(_env)
          provided_json { @interpreter.observability_snapshot }
        end
      end

      # `GET /v1/metrics`: the provider's metrics (JSON).
      class MetricsHandler < GetHandler
        private

        def get(_env)
          provided_json { {} }
        end
      end

      # `GET /metrics`: the provider's metric families in the Prometheus
      # text format (see {Server::PrometheusText}).
      class PrometheusHandler < GetHandler
        private

        def get(_env)
          text = Server::PrometheusText.render(@provider.call)
          [200, { "Content-Type" => Server::PrometheusText::CONTENT_TYPE, "Content-Length" => text.bytesize.to_s },
           [text]]
        end
      end

      # `GET /v1/events/recent`: `{events:, count:}` from the provider (default none).
      class EventsRecentHandler < GetHandler
        private

        def get(_env)
          events = Array(@provider&.call)
          json_response(200, { events: events, count: events.size })
        end
      end

      # `GET /v1/metadata`: the interpreter's metadata snapshot.
      class MetadataHandler < GetHandler
        # @param interpreter [Protocol::Interpreter]
        def initialize(interpreter)
          super(nil, interpreter: interpreter)
        end

        private

        def get(_env)
          json_response(200, @interpreter.metadata_snapshot)
        end
      end

      # `GET /v1/compaction/activity?store=&kind=&since=&limit=` (`since` in
      # seconds or ISO-8601); 400 for a malformed `since`/`limit`.
      class CompactionActivityHandler < GetHandler
        # @param interpreter [Protocol::Interpreter]
        def initialize(interpreter)
          super(nil, interpreter: interpreter)
        end

        private

        def get(env)
          params = query_params(env)
          since = last_param(params, "since")
          limit = last_param(params, "limit")
          begin
            since = Protocol::TimeParam.seconds(since, "since")
          rescue ArgumentError => e
            return bad_request("Invalid value for 'since': #{e.message}")
          end
          begin
            limit = Integer(limit, 10) unless limit.nil?
          rescue ArgumentError, TypeError
            return bad_request("Invalid integer value for 'limit': #{limit.inspect}")
          end
          activity = @interpreter.compaction_activity(
            store: last_param(params, "store"), kind: last_param(params, "kind"), since: since, limit: limit
          )
          json_response(200, activity)
        rescue ArgumentError, RangeError => e
          bad_request(TransportSupport.safe_message(e))
        end
      end
    end
  end
end
