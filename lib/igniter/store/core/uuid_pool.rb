# frozen_string_literal: true

require "securerandom"

module Igniter
  module Store
    # UUID v4 text for the pure path's fact ids and history keys, made 256 at
    # a time from one SecureRandom read: `SecureRandom.uuid` costs one read of
    # 16 bytes and a `format` per id, a third of a pure write's id cost. The
    # ids are the same kind (122 random bits from SecureRandom, version 4,
    # RFC 4122 variant, lowercase).
    #
    # Each id is taken with one `Array#shift`, which no other thread or
    # signal handler can interleave with; a batch belongs to the process that
    # made it, so a forked child never hands out its parent's ids.
    module UuidPool
      # Ids made per SecureRandom read.
      BATCH = 256
      # Bytes of one UUID.
      UUID_BYTES = 16
      # Hex digits of one UUID.
      HEX_CHARS = 2 * UUID_BYTES
      # The version digit, "4".
      VERSION_4 = "4".ord
      # The RFC 4122 variant digit for each hex digit (by its byte): the
      # digit's low two bits under the bits 10, i.e. "8", "9", "a" or "b".
      VARIANT = Array.new(128).tap do |table|
        "0123456789abcdef".each_char { |c| table[c.ord] = format("%x", (c.hex & 3) | 8).ord }
      end.freeze
      private_constant :BATCH, :UUID_BYTES, :HEX_CHARS, :VERSION_4, :VARIANT

      @pool = [nil, [].freeze].freeze

      class << self
        # @return [String] a fresh UUID v4, UTF-8, not frozen
        def next_uuid
          pid, ids = @pool
          id = ids.shift if pid == Process.pid
          return id if id

          @pool = [Process.pid, batch].freeze
          next_uuid
        end

        private

        def batch
          hex = SecureRandom.random_bytes(BATCH * UUID_BYTES).unpack1("H*").force_encoding(Encoding::UTF_8)
          Array.new(BATCH) do |i|
            id = hex.byteslice(i * HEX_CHARS, HEX_CHARS)
            # Version and variant set on the text, three calls an id: on the
            # bytes before the hex it took five and a loop of its own.
            id.setbyte(12, VERSION_4)
            id.setbyte(16, VARIANT[id.getbyte(16)])
            id.insert(20, "-").insert(16, "-").insert(12, "-").insert(8, "-")
          end
        end
      end
    end
  end
end
