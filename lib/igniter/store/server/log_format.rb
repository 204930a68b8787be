# frozen_string_literal: true

require "json"
require "time"

module Igniter
  module Store
    module Server
      # The `Logger` formatter of {ServerLogger}: one line per entry.
      #
      # text: `2026-05-02T10:00:00.123+02:00 INFO  http: POST /v1/dispatch status=200 duration_ms=1.2`
      #   (time with zone, level padded to 5, component, message, then the
      #   fields as `key=value`; values with spaces, quotes or `=` and
      #   non-String values are written as JSON)
      # json: `{"ts":"…","level":"info","component":"http","msg":"POST /v1/dispatch","status":200,…}`
      class LogFormat
        # What {ServerLogger} hands to Logger as the message.
        Line = Struct.new(:message, :fields)

        # A Logger device around any IO: a failing write (closed stream,
        # EPIPE, disk full) drops the line instead of reaching Logger, which
        # would print "log writing failed" on stderr for every line.
        class Device
          # @param io [#write]
          def initialize(io)
            @io = io
          end

          # @param line [String]
          # @return [nil]
          def write(line)
            @io.write(line)
            nil
          rescue IOError, SystemCallError
            nil
          end

          # The IO is the caller's; Logger#close must not close it.
          # @return [nil]
          def close
            nil
          end
        end

        # A String field value written without quotes in text lines.
        BARE = /\A[^\s"=\\]+\z/.freeze

        # @param format [Symbol] :text or :json
        def initialize(format)
          @format = format
        end

        # Logger's formatter protocol.
        # @param severity [String] "INFO", …
        # @param time [Time]
        # @param component [String] Logger's progname
        # @param entry [Line, Object]
        # @return [String] one line with "\n"
        def call(severity, time, component, entry)
          entry = Line.new(entry.to_s, {}) unless entry.is_a?(Line)
          stamp = time.iso8601(3)
          @format == :json ? json_line(severity, stamp, component, entry) : text_line(severity, stamp, component, entry)
        end

        private

        def text_line(severity, stamp, component, entry)
          line = +"#{stamp} #{severity.ljust(5)} #{component}: #{single_line(entry.message)}"
          entry.fields.each do |key, value|
            next if key.to_s == "event" && value.to_s == entry.message

            line << " #{key}=#{text_value(value)}"
          end
          line << "\n"
        end

        def json_line(severity, stamp, component, entry)
          head = { ts: stamp, level: severity.downcase, component: component, msg: entry.message }
          "#{JSON.generate(head.merge(entry.fields.reject { |key, _| head.key?(key.to_sym) }))}\n"
        rescue JSON::GeneratorError, EncodingError
          "#{JSON.generate(head.merge(fields_error: "fields not encodable"))}\n"
        end

        def text_value(value)
          value = value.to_s if value.is_a?(Symbol)
          return value if value.is_a?(String) && value.match?(BARE)

          JSON.generate(value)
        rescue JSON::GeneratorError, EncodingError
          value.to_s.inspect
        end

        # A message never breaks the one-line-per-entry rule.
        def single_line(text)
          text.include?("\n") ? text.gsub(/\r?\n/, " | ") : text
        end
      end
    end
  end
end
