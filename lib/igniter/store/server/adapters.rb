# frozen_string_literal: true

module Igniter
  module Store
    module Server
      # Wires the envelope adapters (HTTP with SSE, framed TCP) to a
      # {StoreServer}: its interpreter (same durable store), its snapshots,
      # its changefeed, its tokens, TLS files, metrics and log. Binding is
      # synchronous, so a taken port raises here (tagged with
      # {ListenFailure}) instead of dying in a thread.
      module Adapters
        module_function

        # @return [nil]
        def start(server, http_port:, tcp_port:, http_host:, tcp_host:)
          unless http_port.nil?
            http = bind("HTTP", http_host, http_port, "--http-port") do
              HTTPAdapter.new(interpreter: server.protocol, port: http_port, host: http_host, auth: server.auth,
                              logger: server.logger, metrics: server.metrics, max_body_bytes: server.max_body_bytes,
                              **timeouts(server, HTTPAdapter), **tls_files(server), **providers(server),
                              console: console(server)).start_async
            end
            server.adapters_started(http, nil) # (the adapter logs where it listens)
          end
          unless tcp_port.nil?
            tcp = bind("envelope TCP", tcp_host, tcp_port, "--tcp-port") do
              TCPAdapter.new(interpreter: server.protocol, port: tcp_port, host: tcp_host, auth: server.auth,
                             logger: server.logger, metrics: server.metrics, **timeouts(server, TCPAdapter),
                             **tls_files(server)).start_async
            end
            server.adapters_started(nil, tcp)
            server.logger.info("TCP envelope listening on #{tcp.bind_address}#{" (tls)" if server.tls}")
          end
          nil
        end

        # The read-only web console at /ui over the server's store, feed and
        # status. It checks tokens itself (its login form sets a cookie): when
        # reads are guarded, a read or the write token lets a reader in.
        # Loaded here, not at require time.
        def console(server)
          require_relative "../../ledger/console"
          auth = server.auth
          tokens = auth.reads_guarded? ? [auth.read_token, auth.write_token].compact : nil
          Ledger::Console.new(server.store, token: tokens, changefeed: server.changefeed,
                                            status: -> { server.observability_snapshot })
        end

        def bind(name, host, port, flag)
          yield
        rescue SystemCallError => e
          raise ListenFailure.tag(e, listener: name, address: Address.format(host, port), flag: flag)
        end

        # The server's --read-timeout and --idle-timeout hold for every listener
        # (nil, no limit, leaves the adapter's default).
        def timeouts(server, adapter)
          { read_timeout: server.read_timeout || adapter::DEFAULT_READ_TIMEOUT,
            idle_timeout: server.idle_timeout || adapter::DEFAULT_IDLE_TIMEOUT }
        end

        def tls_files(server)
          server.tls ? { tls_cert: server.tls[:cert], tls_key: server.tls[:key] } : {}
        end

        def providers(server)
          {
            health_provider: -> { server.health_snapshot },
            status_provider: -> { server.observability_snapshot },
            ready_provider: -> { server.ready? },
            metrics_provider: -> { server.metrics_document },
            prometheus_provider: -> { server.metric_families },
            events_provider: -> { server.recent_events },
            changefeed_provider: -> { server.changefeed },
            changefeed_log_provider: -> { server.store }
          }
        end

        private_class_method :bind, :timeouts, :tls_files, :providers
      end
    end
  end
end
