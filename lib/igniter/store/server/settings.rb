# frozen_string_literal: true

module Igniter
  module Store
    module Server
      # Validation of server settings, run before any file or socket is opened.
      module Settings
        module_function

        # @return [Symbol] :tcp or :unix
        def transport(value)
          sym = value.respond_to?(:to_sym) ? value.to_sym : value
          return sym if StoreServer::TRANSPORTS.include?(sym)

          raise ArgumentError, "Unknown transport: #{value.inspect}. Use :tcp or :unix"
        end

        # @return [Symbol] :flush or :fsync (the file and segmented backends' policy)
        # @raise [ArgumentError] anything else
        def durability(value)
          sym = value.respond_to?(:to_sym) ? value.to_sym : value
          return sym if %i[flush fsync].include?(sym)

          raise ArgumentError, "StoreServer durability must be :flush or :fsync, got #{value.inspect}"
        end

        # @return [Symbol] :memory, :file, :segmented or :postgres
        def backend(value)
          sym = value.respond_to?(:to_sym) ? value.to_sym : value
          return sym if StoreServer::BACKENDS.include?(sym)

          raise ArgumentError, "StoreServer backend must be :memory, :file, :segmented or :postgres, got #{value.inspect}"
        end

        # :postgres takes the database URL as +path+.
        PATH_MEANING = { file: "the WAL file", segmented: "the segment root directory",
                         postgres: "the database URL" }.freeze

        def require_path!(backend, path)
          return unless PATH_MEANING.key?(backend) && (path.nil? || path.to_s.empty?)

          raise ArgumentError, "StoreServer backend #{backend.inspect} requires path: (#{PATH_MEANING[backend]})"
        end

        # @return [Integer] a TCP port (0 = any free port); unix sockets ignore it
        def port(transport, value)
          return value if transport == :unix
          return value if value.is_a?(Integer) && value.between?(0, 65_535)
          return Integer(value, 10) if value.is_a?(String) && value.match?(/\A\d+\z/) && Integer(value, 10) <= 65_535

          raise ArgumentError, "port must be an Integer in 0..65535, got #{value.inspect}"
        end

        # @return [Integer] largest request frame body, at most the WAL frame limit
        def frame_limit(value)
          return value if value.is_a?(Integer) && value.positive? && value <= WireProtocol::MAX_FRAME_LEN

          raise ArgumentError,
                "max_frame_bytes must be an Integer in 1..#{WireProtocol::MAX_FRAME_LEN}, got #{value.inspect}"
        end

        # @return [Numeric, nil] any finite number (negative: every op is slow), or nil (off)
        def slow_op_threshold(value)
          return value if value.nil? || (value.is_a?(Numeric) && value.to_f.finite?)

          raise ArgumentError, "slow_op_threshold_ms must be a number or nil, got #{value.inspect}"
        end

        # @return [Integer, nil] a positive Integer, or nil (unlimited)
        def limit(name, value)
          return nil if value.nil?
          return value if value.is_a?(Integer) && value.positive?

          raise ArgumentError, "#{name} must be a positive Integer or nil, got #{value.inspect}"
        end

        # @return [Numeric, nil] non-negative seconds, or nil (no limit)
        def seconds(name, value)
          return nil if value.nil?
          return value if value.is_a?(Numeric) && value >= 0 && value.to_f.finite?

          raise ArgumentError, "#{name} must be a non-negative number of seconds, got #{value.inspect}"
        end

        # @param cert [String, nil] PEM certificate file
        # @param key [String, nil] PEM private key file
        # @return [Hash, nil] `{cert:, key:}` (absolute paths), or nil without TLS
        # @raise [ArgumentError] for one without the other, or a file that cannot be used
        def tls(cert, key)
          return nil if cert.nil? && key.nil?
          raise ArgumentError, "TLS needs both a certificate and a key (--tls-cert and --tls-key)" if cert.nil? || key.nil?

          files = { cert: File.expand_path(cert.to_s), key: File.expand_path(key.to_s) }
          Transport::TLS.server_context(**files) # names the file that is unreadable or mismatched
          files.freeze
        end

        # @return [Symbol] a ServerLogger level
        def log_level(value)
          ServerLogger.level!(value)
        end

        # @return [Symbol] :text or :json
        def log_format(value)
          ServerLogger.format!(value)
        end

        # @return [String, nil] a non-empty token, or nil (no auth)
        def token(value)
          return nil if value.nil?
          return value.to_s if value.is_a?(String) && !value.empty?

          raise ArgumentError, "auth_token must be a non-empty String, got #{value.inspect}"
        end
      end
    end
  end
end
