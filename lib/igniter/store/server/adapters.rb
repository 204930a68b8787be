# frozen_string_literal: true

module Igniter
  module Store
    module Server
      # Wires the envelope adapters (HTTP with SSE, framed TCP) to a
      # {StoreServer}: its interpreter (same durable store), its snapshots,
      # its changefeed and its token. Binding is synchronous, so a taken
      # port raises here instead of dying in a thread.
      module Adapters
        module_function

        # @return [nil]
        def start(server, http_port:, tcp_port:, http_host:, tcp_host:)
          http = tcp = nil
          unless http_port.nil?
            http = HTTPAdapter.new(interpreter: server.protocol, port: http_port, host: http_host,
                                   auth_token: server.auth_token, logger: server.logger, console: console(server),
                                   **providers(server)).start_async
            server.adapters_started(http, nil)
            server.logger.info("HTTP listening on #{http.bind_address}")
          end
          unless tcp_port.nil?
            tcp = TCPAdapter.new(interpreter: server.protocol, port: tcp_port, host: tcp_host,
                                 auth_token: server.auth_token, logger: server.logger).start_async
            server.adapters_started(nil, tcp)
            server.logger.info("TCP envelope listening on #{tcp.bind_address}")
          end
          nil
        end

        # The read-only web console at /ui over the server's store, feed and
        # status, behind the server's token (loaded here, not at require time).
        def console(server)
          require_relative "../../ledger/console"
          Ledger::Console.new(server.store, token: server.auth_token, changefeed: server.changefeed,
                                            status: -> { server.observability_snapshot })
        end

        def providers(server)
          {
            health_provider: -> { server.health_snapshot },
            status_provider: -> { server.observability_snapshot },
            ready_provider: -> { server.ready? },
            metrics_provider: -> { server.observability_snapshot[:metrics] },
            events_provider: -> { server.recent_events },
            changefeed_provider: -> { server.changefeed }
          }
        end
      end
    end
  end
end
