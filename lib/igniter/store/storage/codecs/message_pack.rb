# frozen_string_literal: true

module Igniter
  module Store
    module Codecs
      # The subset of MessagePack the compact codec uses, written to give the
      # exact bytes of the msgpack gem 0.5.2 used (Strings as `str`, Floats as
      # float64, Integers in the smallest width), so the gem needs no msgpack
      # dependency. The reader also accepts `bin`, float32 and every integer
      # width, as other writers may produce them.
      module MessagePack
        # Bytes that are not a MessagePack value of the supported subset.
        class MalformedFormatError < StandardError; end

        # Deepest container nesting the reader follows (the Rust reader's
        # limit too): deeper input is damage, not a reason to exhaust the stack.
        MAX_DEPTH = 512

        class << self
          # @param obj [nil, true, false, Integer, Float, String, Symbol, Array, Hash]
          # @return [String] binary MessagePack bytes
          # @raise [ArgumentError] an object outside the subset
          def pack(obj)
            write(+"".b, obj)
          end

          # The header of an array of `size` elements, for callers that append
          # already-packed elements after it.
          # @param size [Integer]
          # @return [String] binary
          def array_header(size)
            write_len(+"".b, size, 0x90, 16, 0xDC, 0xDD)
          end

          # @param bytes [String]
          # @return [Object] Strings come back UTF-8, Hash keys as decoded
          # @raise [MalformedFormatError] truncated, unknown type or trailing bytes
          def unpack(bytes)
            data = bytes.b
            obj, pos = read(data, 0)
            raise MalformedFormatError, "#{data.bytesize - pos} extra bytes after MessagePack value" if pos != data.bytesize

            obj
          end

          private

          def write(out, obj)
            case obj
            when nil then out << "\xC0".b
            when false then out << "\xC2".b
            when true then out << "\xC3".b
            when Integer then write_int(out, obj)
            when Float then out << [0xCB, obj].pack("CG")
            when String, Symbol then write_str(out, obj.to_s)
            when Array
              write_len(out, obj.size, 0x90, 16, 0xDC, 0xDD)
              obj.each { |v| write(out, v) }
            when Hash
              write_len(out, obj.size, 0x80, 16, 0xDE, 0xDF)
              obj.each do |k, v|
                write(out, k)
                write(out, v)
              end
            else
              raise ArgumentError, "cannot MessagePack-encode #{obj.class}"
            end
            out
          end

          def write_int(out, int)
            if int >= 0
              if int < 128 then out << [int].pack("C")
              elsif int < 0x100 then out << [0xCC, int].pack("CC")
              elsif int < 0x10000 then out << [0xCD, int].pack("Cn")
              elsif int < 0x100000000 then out << [0xCE, int].pack("CN")
              elsif int < 0x10000000000000000 then out << [0xCF, int].pack("CQ>")
              else raise ArgumentError, "integer #{int} too big for MessagePack"
              end
            elsif int >= -32 then out << [int].pack("c")
            elsif int >= -0x80 then out << [0xD0, int].pack("Cc")
            elsif int >= -0x8000 then out << [0xD1, int].pack("Cs>")
            elsif int >= -0x80000000 then out << [0xD2, int].pack("Cl>")
            elsif int >= -0x8000000000000000 then out << [0xD3, int].pack("Cq>")
            else raise ArgumentError, "integer #{int} too small for MessagePack"
            end
          end

          def write_str(out, str)
            str = str.encode(Encoding::UTF_8) unless str.encoding == Encoding::UTF_8 || str.ascii_only?
            size = str.bytesize
            if size < 32 then out << [0xA0 | size].pack("C")
            elsif size < 0x100 then out << [0xD9, size].pack("CC")
            elsif size < 0x10000 then out << [0xDA, size].pack("Cn")
            else out << [0xDB, size].pack("CN")
            end
            out << str.b
          end

          def write_len(out, size, fix, fix_limit, head16, head32)
            if size < fix_limit then out << [fix | size].pack("C")
            elsif size < 0x10000 then out << [head16, size].pack("Cn")
            else out << [head32, size].pack("CN")
            end
            out
          end

          # @return [Array(Object, Integer)] the value and the position after it
          def read(data, pos, depth = 0)
            type = data.getbyte(pos) or truncated!
            pos += 1
            case type
            when 0x00..0x7F then [type, pos]
            when 0x80..0x8F then read_map(data, pos, type & 0x0F, depth)
            when 0x90..0x9F then read_array(data, pos, type & 0x0F, depth)
            when 0xA0..0xBF then read_str(data, pos, type & 0x1F)
            when 0xE0..0xFF then [type - 0x100, pos]
            when 0xC0 then [nil, pos]
            when 0xC2 then [false, pos]
            when 0xC3 then [true, pos]
            when 0xC4, 0xD9 then read_sized(data, pos, 1, "C", type == 0xC4)
            when 0xC5, 0xDA then read_sized(data, pos, 2, "n", type == 0xC5)
            when 0xC6, 0xDB then read_sized(data, pos, 4, "N", type == 0xC6)
            when 0xCA then [fixed(data, pos, 4, "g"), pos + 4]
            when 0xCB then [fixed(data, pos, 8, "G"), pos + 8]
            when 0xCC then [fixed(data, pos, 1, "C"), pos + 1]
            when 0xCD then [fixed(data, pos, 2, "n"), pos + 2]
            when 0xCE then [fixed(data, pos, 4, "N"), pos + 4]
            when 0xCF then [fixed(data, pos, 8, "Q>"), pos + 8]
            when 0xD0 then [fixed(data, pos, 1, "c"), pos + 1]
            when 0xD1 then [fixed(data, pos, 2, "s>"), pos + 2]
            when 0xD2 then [fixed(data, pos, 4, "l>"), pos + 4]
            when 0xD3 then [fixed(data, pos, 8, "q>"), pos + 8]
            when 0xDC then read_array(data, pos + 2, fixed(data, pos, 2, "n"), depth)
            when 0xDD then read_array(data, pos + 4, fixed(data, pos, 4, "N"), depth)
            when 0xDE then read_map(data, pos + 2, fixed(data, pos, 2, "n"), depth)
            when 0xDF then read_map(data, pos + 4, fixed(data, pos, 4, "N"), depth)
            else raise MalformedFormatError, format("unsupported MessagePack type byte 0x%02X", type)
            end
          end

          def fixed(data, pos, size, directive)
            truncated! if pos + size > data.bytesize
            data.unpack1(directive, offset: pos)
          end

          def read_sized(data, pos, width, directive, binary)
            size = fixed(data, pos, width, directive)
            pos += width
            binary ? [slice(data, pos, size), pos + size] : read_str(data, pos, size)
          end

          def read_str(data, pos, size)
            [slice(data, pos, size).force_encoding(Encoding::UTF_8), pos + size]
          end

          def slice(data, pos, size)
            truncated! if pos + size > data.bytesize
            data.byteslice(pos, size)
          end

          # Every element takes at least one byte: a count beyond the bytes
          # left is damage, refused before it can size an allocation.
          def read_array(data, pos, size, depth)
            too_deep! if depth >= MAX_DEPTH
            truncated! if size > data.bytesize - pos
            out = Array.new(size)
            size.times do |i|
              out[i], pos = read(data, pos, depth + 1)
            end
            [out, pos]
          end

          def read_map(data, pos, size, depth)
            too_deep! if depth >= MAX_DEPTH
            truncated! if size * 2 > data.bytesize - pos
            out = {}
            size.times do
              key, pos = read(data, pos, depth + 1)
              out[key], pos = read(data, pos, depth + 1)
            end
            [out, pos]
          end

          def truncated!
            raise MalformedFormatError, "truncated MessagePack data"
          end

          def too_deep!
            raise MalformedFormatError, "MessagePack containers nested deeper than #{MAX_DEPTH}"
          end
        end
      end
    end
  end
end
