# frozen_string_literal: true

module Igniter
  module Store
    module Recovery
      # Random access to the bytes of a file (through one forward-moving buffer, so a
      # sequential scan reads every byte once and a resync never re-reads the file per
      # candidate) or of a String. The Rust scanner's `FileSource` / `SliceSource`.
      class Window
        # Bytes read ahead at a time.
        CHUNK = 1 << 20

        # A candidate frame start during a resync: a length of at most
        # MAX_FRAME_LEN (first byte <= 3) and a body that opens like a JSON object.
        CANDIDATE = /[\x00-\x03][\x00-\xFF]{3}[{ \t\n\r]/n

        # @return [Integer] bytes in the file or String
        attr_reader :size

        # @param source [IO, String] an IO supporting `pread`, or the bytes themselves
        # @param size [Integer, nil] bytes to scan (default: all)
        def initialize(source, size = nil)
          if source.is_a?(String)
            @buf = source.b
            @io = nil
          else
            @buf = "".b
            @io = source
          end
          @start = 0
          @size = size || (@io ? @io.size : @buf.bytesize)
        end

        # @return [String] exactly +n+ bytes at +pos+ (the caller keeps pos + n <= size)
        def bytes(pos, n)
          fill(pos, n)
          @buf.byteslice(pos - @start, n)
        end

        # @return [Integer] the big-endian u32 at +pos+
        def u32(pos)
          fill(pos, 4)
          @buf.unpack1("N", offset: pos - @start)
        end

        # @return [Integer] the byte at +pos+ (read on its own when outside the buffer)
        def byte_at(pos)
          at = pos - @start
          return @buf.getbyte(at) if at >= 0 && at < @buf.bytesize

          @io.pread(1, pos).getbyte(0)
        end

        # The first resync candidate in `from...` what is buffered (refilled when
        # fewer than +want+ bytes are left).
        #
        # @return [Array(Integer, nil), Integer] the candidate's offset (or nil) and
        #   where the search may go on
        def candidate(from, want)
          fill(from, want)
          at = @buf.index(CANDIDATE, from - @start)
          limit = @start + @buf.bytesize - 4
          at && at + @start < limit ? [at + @start, nil] : [nil, limit]
        end

        private

        def fill(pos, n)
          buffered_end = @start + @buf.bytesize
          return if pos >= @start && pos + n <= buffered_end
          raise IOError, "scan window outside the file" unless @io

          @buf = pos >= @start && pos <= buffered_end ? @buf.byteslice(pos - @start..) : "".b
          @start = pos
          want = [[n, CHUNK].max, @size - pos].min
          while @buf.bytesize < want
            chunk = @io.pread(want - @buf.bytesize, pos + @buf.bytesize)
            @buf << chunk
          end
        rescue EOFError
          raise EOFError, "file shrank while scanning"
        end
      end
    end
  end
end
