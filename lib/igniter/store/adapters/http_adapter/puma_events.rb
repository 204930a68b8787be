# frozen_string_literal: true

module Igniter
  module Store
    class HTTPAdapter
      # Puma's event sink for the adapter's puma server: what puma reports
      # (a malformed request it answered itself, a failed TLS handshake, an
      # error in its loops) goes to the server's log, in its format, instead
      # of puma's own stdout/stderr lines.
      class PumaEvents < Puma::Events
        # @param logger [ServerLogger, nil] component `http`
        def initialize(logger)
          null = Puma::NullIO.new
          super(null, null)
          @logger = logger
        end

        # Puma's chatter (boot lines, debug notes) at debug level.
        # @return [nil]
        def log(message)
          TransportSupport.log(@logger, :debug, "puma: #{message}")
        end
        alias write log
        alias debug log

        # @return [nil]
        def error(message)
          TransportSupport.log(@logger, :error, "puma: #{message}")
        end

        # A request puma refused before the app saw it (it answered 400/501).
        # @return [nil]
        def parse_error(error, _req)
          TransportSupport.log(@logger, :info, "request refused by the HTTP parser: #{Transport::ErrorText.first_line(error)}")
        end

        # @return [nil]
        def ssl_error(error, _socket)
          TransportSupport.log(@logger, :info, "TLS handshake failed: #{Transport::ErrorText.first_line(error)}")
        end

        # @return [nil]
        def connection_error(error, _req, text = "HTTP connection error")
          TransportSupport.log(@logger, :debug, "#{text}: #{error.class}: #{Transport::ErrorText.first_line(error)}")
        end

        # @return [nil]
        def unknown_error(error, _req = nil, text = "Unknown error")
          TransportSupport.log(@logger, :warn, "puma: #{text}: #{error.class}: #{Transport::ErrorText.first_line(error)}")
        end

        # @return [nil]
        def debug_error(error, _req = nil, text = "")
          TransportSupport.log(@logger, :debug, "puma: #{text} #{error.class}: #{Transport::ErrorText.first_line(error)}")
        end
      end
    end
  end
end
