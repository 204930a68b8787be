# frozen_string_literal: true

require "json"

module Igniter
  module Store
    # Base class for errors raised by igniter-ledger itself.
    class Error < StandardError; end

    # NaN or ±Infinity in a fact's value, producer or derivation, or a
    # non-finite valid_time. A JSON::GeneratorError subclass so that callers
    # rescuing what 0.5.2 raised (from JSON.generate) keep working.
    # Messages: "NaN not allowed in JSON", "Infinity not allowed in JSON",
    # "-Infinity not allowed in JSON".
    class NonFiniteNumberError < JSON::GeneratorError; end

    # A String that is not valid UTF-8 and cannot be transcoded to it.
    # Message: "source sequence is illegal/malformed utf-8" (as 0.5.2's JSON).
    class InvalidEncodingError < JSON::GeneratorError; end

    # A value (or Hash key) outside the JSON model whose text form carries a
    # memory address — a Proc, an IO, a Thread, a plain Object. That text
    # differs in every process, so it can be neither stored faithfully nor
    # hashed reproducibly. Objects with a stable text (Time, Rational, …)
    # are still stored as their to_s, as 0.5.2 did.
    # Message: "<Class> value has no JSON form: its text carries a memory address".
    class UnrepresentableValueError < TypeError; end
  end
end
