# frozen_string_literal: true

module Igniter
  module Store
    # Settings of a {StoreServer}. Values are stored as given (validated
    # when a server is built from them); unknown keys are refused.
    class ServerConfig
      # Largest op-protocol frame body a server accepts by default.
      DEFAULT_MAX_FRAME_BYTES = 16 * 1024 * 1024

      # Key order is the order of {#to_h}. The first eleven are 0.5.2's.
      DEFAULTS = {
        host: "127.0.0.1",
        port: 7400,
        transport: :tcp,
        backend: :memory,
        path: nil,
        log_io: $stdout,
        log_level: :info,
        pid_file: nil,
        drain_timeout: 5,
        # 0.5.2 allowed unlimited connections (one thread each).
        max_connections: 256,
        changefeed: {},
        max_frame_bytes: DEFAULT_MAX_FRAME_BYTES,
        # Seconds a started frame may take to arrive completely.
        read_timeout: 30,
        # Seconds a connection may sit between requests (not while subscribed).
        idle_timeout: 300,
        # Shared secret required by write ops when set (the write token).
        auth_token: nil,
        # Log lines as :text or :json (see ServerLogger).
        log_format: :text,
        # Token every read, replay, feed and status request needs (the write token also reads).
        read_token: nil,
        # Reads need a token even without a read token (then the write token).
        auth_reads: false,
        # PEM certificate and key: the op-protocol listener (and the adapters) speak TLS.
        tls_cert: nil,
        tls_key: nil,
        # Largest HTTP request body; larger ones get 413 from their headers.
        max_body_bytes: 8 * 1024 * 1024,
        # :flush (a write(2) per fact) or :fsync (fdatasync after each) for the file and segmented backends.
        durability: :flush
      }.freeze

      DEFAULTS.each_key do |key|
        # @return [Object] the setting (see DEFAULTS)
        attr_reader key
      end

      # @param opts [Hash] any DEFAULTS keys
      # @raise [ArgumentError] naming unknown keys
      def initialize(**opts)
        unknown = opts.keys - DEFAULTS.keys
        raise ArgumentError, "Unknown ServerConfig keys: #{unknown.inspect}" unless unknown.empty?

        # A fresh changefeed Hash per config, so configs never share one.
        DEFAULTS.merge(changefeed: {}).merge(opts).each { |key, value| instance_variable_set(:"@#{key}", value) }
      end

      # @return [String] the socket path (unix) or "host:port" (tcp)
      def bind_address
        transport.to_s == "unix" ? host.to_s : "#{host}:#{port}"
      end

      # @return [Hash] every setting in DEFAULTS order
      def to_h
        DEFAULTS.keys.to_h { |key| [key, public_send(key)] }
      end
    end
  end
end
