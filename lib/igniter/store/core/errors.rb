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
    # A Class or Module as a value is refused too (it cannot be frozen or
    # copied into a fact): "Class value has no JSON form: store its name instead".
    class UnrepresentableValueError < TypeError; end
    # Opening a ledger with `recovery: :strict` found damage (a torn frame, a
    # bad CRC, an undecodable body or bytes between frames). Nothing on disk
    # was changed. Message: "<path>: <reason> at byte <offset>".
    class CorruptLedgerError < Error
      # @return [String, nil] the damaged file
      attr_reader :path
      # @return [Integer, nil] byte offset where the damage starts
      attr_reader :offset
      # @return [Symbol, nil] what was found (`:torn`, `:bad_crc`, `:oversized`, `:undecodable`, `:garbage`)
      attr_reader :reason

      # @param message [String, nil]
      # @param path [String, nil]
      # @param offset [Integer, nil]
      # @param reason [Symbol, String, nil]
      def initialize(message = nil, path: nil, offset: nil, reason: nil)
        @path = path
        @offset = offset
        @reason = reason&.to_sym
        super(message || "#{path}: #{reason} at byte #{offset}")
      end
    end

    # A non-empty file (or directory) that does not start like a ledger was
    # given where a ledger was expected. It was left byte for byte as it was.
    # Message: "<path> is not an igniter-ledger WAL: <why>".
    class NotALedgerError < Error
      # @return [String, nil] the refused path
      attr_reader :path

      # @param message [String, nil]
      # @param path [String, nil]
      def initialize(message = nil, path: nil)
        @path = path
        super(message || "#{path} is not an igniter-ledger WAL")
      end
    end

    # Another writer (another process, or this process through a second
    # handle) holds the ledger's lock, or a writer holds it while a read-only
    # open was asked for. Message names the path and the holder's pid.
    class LedgerLockedError < Error
      # @return [String, nil] the ledger path
      attr_reader :path
      # @return [Integer, nil] pid recorded by the holder, when known
      attr_reader :pid

      # @param message [String, nil]
      # @param path [String, nil]
      # @param pid [Integer, nil]
      def initialize(message = nil, path: nil, pid: nil)
        @path = path
        @pid = pid
        super(message || "#{path} is locked by another writer#{" (pid #{pid})" if pid}")
      end
    end

    # A bug inside the native extension (a Rust panic) caught at the boundary:
    # the operation failed, the process and every fact already written live on.
    class InternalError < Error; end

    # A write (`write_fact`, `write_snapshot`, `replace_with_snapshot!`, or a store
    # write through them) to a ledger opened with `read_only: true`. Nothing was
    # written. Message: "<path> is open read-only; writes are refused".
    class ReadOnlyLedgerError < Error
      # @return [String, nil] the ledger path
      attr_reader :path

      # @param message [String, nil]
      # @param path [String, nil]
      def initialize(message = nil, path: nil)
        @path = path
        super(message || "#{path} is open read-only; writes are refused")
      end
    end

    # A fact from outside (a network client) that cannot enter the log as
    # sent: its value_hash does not match its value, or its id is taken.
    class InvalidFactError < Error; end

    # A store name that cannot be a single directory name under `wal/`.
    class InvalidStoreNameError < ArgumentError; end
  end
end
