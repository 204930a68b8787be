# frozen_string_literal: true

require "json"
require "time"

module Igniter
  module Store
    # Line logger of the server: plain lines `[local time] LEVEL msg` and
    # structured lines `[EVENT] {json}`. Each line goes out in one `write`
    # under a mutex, so concurrent lines never interleave. A nil IO is silent.
    class ServerLogger
      LEVELS = { debug: 0, info: 1, warn: 2, error: 3 }.freeze

      # @param io [IO, StringIO, nil] destination; nil discards everything
      # @param level [Symbol] minimum level; unknown levels mean :info
      def initialize(io = $stdout, level = :info)
        @io = io
        @min = LEVELS.fetch(level.to_s.to_sym, LEVELS[:info]) if level.respond_to?(:to_s)
        @min ||= LEVELS[:info]
        @lock = Mutex.new
      end

      # @return [Symbol] the minimum level written
      def level
        LEVELS.key(@min)
      end

      LEVELS.each_key do |name|
        # Writes +msg+ at this level when it passes the minimum.
        # @param msg [#to_s]
        # @return [nil]
        define_method(name) { |msg| log(name, msg) }
      end

      # Writes `[EVENT] {"event":type,"ts":iso8601,...attrs}`.
      # @param type [Symbol, String]
      # @param level [Symbol]
      # @return [nil]
      def event(type, level: :info, **attrs)
        return nil unless enabled?(level)

        line = "[EVENT] #{JSON.generate({ event: type, ts: Time.now.iso8601(3) }.merge(attrs))}\n"
        write(line)
      rescue JSON::GeneratorError, EncodingError
        nil
      end

      private

      def enabled?(level)
        !@io.nil? && LEVELS.fetch(level, LEVELS[:info]) >= @min
      end

      def log(level, msg)
        return nil unless enabled?(level)

        write("[#{Time.now.strftime("%Y-%m-%dT%H:%M:%S.%L")}] #{level.to_s.upcase.ljust(5)} #{msg}\n")
      end

      def write(line)
        @lock.synchronize { @io.write(line) }
        nil
      rescue IOError, SystemCallError
        nil
      end
    end
  end
end
