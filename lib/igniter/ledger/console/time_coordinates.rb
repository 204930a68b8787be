# frozen_string_literal: true

require "time"

module Igniter
  module Ledger
    class Console
      # Where in time a page looks: +as_of+ (transaction time: what the
      # ledger knew then) and +valid_at+ (valid time: what was true then).
      #
      # Every page and data endpoint takes one of these, so valid-time reads
      # plug in at a single place: {ReadModel} passes +valid_at+ on once the
      # store's reads accept it ({ReadModel#valid_time_reads?}); until then
      # a given +valid_at+ is reported back as not applied, never silently
      # mixed into a transaction-time answer.
      class TimeCoordinates
        # A decimal number as typed into a time field.
        NUMBER = /\A[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?\z/.freeze
        # An ISO-8601 date-time without a zone designator (what an HTML
        # datetime-local input sends): read as UTC, so an answer never
        # depends on the server's time zone.
        ZONELESS = /\A\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}([.,]\d+)?)?\z/.freeze

        # @return [Float, nil] epoch seconds
        attr_reader :as_of, :valid_at

        # @param params [Hash{String=>String}] request parameters
        # @return [TimeCoordinates]
        # @raise [BadRequest] naming the parameter and what it accepts
        def self.from_params(params)
          new(as_of: parse("as_of", params["as_of"]), valid_at: parse("valid_at", params["valid_at"]))
        end

        # @param name [String] parameter name for the message
        # @param raw [String, nil] epoch seconds or ISO-8601; nil/blank = none
        # @return [Float, nil] epoch seconds (an ISO time: the end of its last digit's span)
        # @raise [BadRequest]
        def self.parse(name, raw)
          text = raw.to_s.strip
          return nil if text.empty?
          return Float(text) if text.match?(NUMBER)

          span = precision(text)
          text = "#{text}Z" if text.match?(ZONELESS)
          text = text.sub(/(T\d{2}:\d{2})(?=Z|[+-]\d{2}:?\d{2}|\z)/, "\\1:00") # seconds are optional in ISO-8601
          last_float_before(Time.iso8601(text).to_r + span)
        rescue ArgumentError
          raise BadRequest, "#{name} must be seconds since the epoch or an ISO-8601 time " \
                            "(e.g. 2026-11-26T07:49:20.5Z), got #{raw.to_s[0, 80].inspect}"
        end

        # An ISO-8601 time names the whole span of its last digit: the console
        # shows times to the microsecond while transaction times are finer, so
        # "…:36.146244Z" must include a fact stamped 36.1462441 that the page
        # showed as 36.146244 (and "…:36Z" the whole second, "…T16:34Z" the
        # minute). {.parse} answers the last Float inside that span; epoch
        # seconds are taken exactly.
        # @return [Rational] the span's length in seconds
        def self.precision(text)
          return Rational(1, 10**Regexp.last_match(1).size) if text =~ /T\d{2}:\d{2}:\d{2}[.,](\d+)/
          return Rational(1) if text.match?(/T\d{2}:\d{2}:\d{2}/)

          Rational(60)
        end
        private_class_method :precision

        # @param bound [Rational]
        # @return [Float] the largest Float below +bound+ (Floats near 2e9 are
        #   ~0.24 µs apart, so this is not simply `bound.to_f.prev_float`)
        def self.last_float_before(bound)
          float = bound.to_f
          float.to_r >= bound ? float.prev_float : float
        end
        private_class_method :last_float_before

        # @param as_of [Float, nil]
        # @param valid_at [Float, nil]
        def initialize(as_of: nil, valid_at: nil)
          @as_of = as_of
          @valid_at = valid_at
        end

        # @return [Boolean] true when the page shows the present
        def now?
          @as_of.nil? && @valid_at.nil?
        end

        # @return [Hash{String=>String}] the query parameters that reproduce these coordinates
        def to_params
          { "as_of" => @as_of&.to_s, "valid_at" => @valid_at&.to_s }.compact
        end
      end
    end
  end
end
