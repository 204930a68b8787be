# frozen_string_literal: true

require "json"
require "logger"
require "time"

module Igniter
  module Store
    # The one log of a server process: a stdlib `Logger` with the
    # {Server::LogFormat} formatter, so every line — messages, structured
    # events, access lines — has the same shape: an ISO-8601 time with its
    # zone, the level and the component that wrote it, in `text` or `json`
    # (see README "Logs").
    #
    # Loggers made with {#for} share this one's device, level and format and
    # only name another component (`server`, `op`, `tcp`, `http`, `mcp`).
    # Logger's device writes each line in one `write` under its lock, so
    # concurrent lines never interleave. A nil IO is silent; a destination
    # that fails (closed, disk full) loses the line, never the server.
    class ServerLogger
      # Log level => its rank (lines below the logger's level are dropped).
      LEVELS = { debug: 0, info: 1, warn: 2, error: 3 }.freeze
      # Output formats of {#initialize}'s `format:`.
      FORMATS = %i[text json].freeze
      # The component of a logger built without one.
      DEFAULT_COMPONENT = "server"

      # @param value [Symbol, String] a level name, any case
      # @return [Symbol] one of LEVELS' keys
      # @raise [ArgumentError] naming the allowed levels
      def self.level!(value)
        sym = value.to_s.downcase.to_sym
        return sym if LEVELS.key?(sym)

        raise ArgumentError, "unknown log level #{value.to_s.inspect} (use #{LEVELS.keys.join(", ")})"
      end

      # @param value [Symbol, String]
      # @return [Symbol] :text or :json
      # @raise [ArgumentError] naming the allowed formats
      def self.format!(value)
        sym = value.to_s.downcase.to_sym
        return sym if FORMATS.include?(sym)

        raise ArgumentError, "unknown log format #{value.to_s.inspect} (use #{FORMATS.join(" or ")})"
      end

      # @return [Symbol] the minimum level written
      attr_reader :level
      # @return [Symbol] :text or :json
      attr_reader :format
      # @return [String] what every line of this logger names as its writer
      attr_reader :component

      # @param io [IO, StringIO, nil] destination; nil discards everything
      # @param level [Symbol, String] minimum level (debug, info, warn, error)
      # @param format [Symbol, String] :text or :json
      # @param component [String] see {#component}
      # @raise [ArgumentError] for an unknown level or format
      def initialize(io = $stdout, level = :info, format: :text, component: DEFAULT_COMPONENT, logger: nil)
        @level = self.class.level!(level)
        @format = self.class.format!(format)
        @component = component.to_s
        @logger = logger || build_logger(io)
      end

      # @param component [String, Symbol]
      # @return [ServerLogger] the same log, lines naming +component+
      def for(component)
        self.class.new(nil, @level, format: @format, component: component, logger: @logger)
      end

      LEVELS.each_key do |name|
        # Writes +msg+ at this level when it passes the minimum.
        # @param msg [#to_s]
        # @param fields [Hash] extra `key=value` facts of the line (JSON members in `json`)
        # @return [nil]
        define_method(name) { |msg, **fields| log(name, msg, fields) }
      end

      # A structured event: its name is the line's message and `event`
      # field, its attributes the line's fields.
      # @param type [Symbol, String]
      # @param level [Symbol]
      # @return [nil]
      def event(type, level: :info, **attrs)
        log(level, type.to_s, { event: type.to_s }.merge(attrs))
      end

      # @param level [Symbol]
      # @return [Boolean] a line at +level+ would be written
      def enabled?(level)
        !@logger.nil? && LEVELS.fetch(level, LEVELS[:info]) >= LEVELS[@level]
      end

      private

      def build_logger(io)
        return nil if io.nil?

        ::Logger.new(Server::LogFormat::Device.new(io), level: ::Logger.const_get(@level.to_s.upcase),
                                                        formatter: Server::LogFormat.new(@format))
      end

      def log(level, msg, fields)
        return nil unless enabled?(level)

        @logger.add(::Logger.const_get(level.to_s.upcase), Server::LogFormat::Line.new(msg.to_s, fields), @component)
        nil
      rescue StandardError
        nil
      end
    end
  end
end
