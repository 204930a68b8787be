# frozen_string_literal: true

require "json"

module Igniter
  module Store
    class HTTPAdapter
      # Refuses an oversized request body under puma before puma buffers it.
      #
      # Puma reads a whole body (into a temp file past 112 KiB) before the app
      # runs, so a limit checked in the app saves the parsing, not the disk.
      # Puma 6.3+ has an option for it (`http_content_length_limit`); for the
      # puma 5 Debian ships, this module is prepended to Puma::Client and
      # acts only on connections of listeners whose puma env carries
      # {LIMIT_KEY} (the adapter's own): a declared Content-Length over the
      # limit is answered 413 from the headers, before `100 Continue` and
      # before a byte of the body is read; a chunked body is cut off with
      # 413 as soon as it grows past the limit.
      module PumaBodyLimit
        # env key (set in the adapter's puma binder) with the limit in bytes.
        LIMIT_KEY = "igniter_ledger.max_body_bytes"
        # env key with a callable told about each refusal (metrics, access log).
        REFUSED_KEY = "igniter_ledger.refused"

        # Puma::Client#setup_body runs once the headers are parsed.
        def setup_body
          limit = @env[LIMIT_KEY]
          declared = @env["CONTENT_LENGTH"]
          refuse_oversized(limit) if limit && declared&.match?(/\A\d+\z/) && declared.to_i > limit
          super
        end

        # Puma::Client#write_chunk runs for each decoded chunk of a chunked body.
        def write_chunk(str)
          written = super
          limit = @env[LIMIT_KEY]
          refuse_oversized(limit) if limit && @chunked_content_length > limit
          written
        end

        private

        def refuse_oversized(limit)
          body = JSON.generate({ error: "Request body exceeds #{limit} bytes" })
          response = "HTTP/1.1 413 Payload Too Large\r\nContent-Type: application/json\r\n" \
                     "Content-Length: #{body.bytesize}\r\nConnection: close\r\n\r\n#{body}"
          begin
            @io << response
            @io.flush if @io.respond_to?(:flush)
          rescue IOError, SystemCallError
            nil
          end
          @env[REFUSED_KEY]&.call(@env, 413, response.bytesize)
          # Puma closes a client whose read raised this, without a word of its own.
          raise Puma::ConnectionError, "request body over #{limit} bytes refused"
        end
      end
    end
  end
end
