# frozen_string_literal: true

require "fileutils"

module Igniter
  module Store
    module CLI
      # File copies for `backup`: each file created new (never over one),
      # written, fsynced, and its directory fsynced, so a copy that reported
      # success survives a crash of the machine right after.
      module DurableCopy
        module_function

        # Copies +length+ bytes of +from+ (an open File) into a new file +to+.
        #
        # @param from [File]
        # @param to [String]
        # @param length [Integer]
        # @param progress [#call, nil] told the bytes copied by each chunk
        # @return [Integer] bytes copied
        # @raise [Errno::EEXIST] +to+ exists
        def file(from, to, length, progress: nil)
          File.open(to, File::WRONLY | File::CREAT | File::EXCL | File::BINARY, 0o644) do |out|
            done = 0
            while done < length
              n = IO.copy_stream(from, out, [length - done, 1 << 20].min, done)
              raise EOFError, "#{from.path} ended at byte #{done} while copying #{length}" if n.zero?

              done += n
              progress&.call(n)
            end
            out.flush
            out.fsync
          end
          length
        end

        # Writes +bytes+ into a new file +to+, fsynced.
        # @return [Integer] bytes written
        def bytes(bytes, to)
          File.open(to, File::WRONLY | File::CREAT | File::EXCL | File::BINARY, 0o644) do |out|
            out.write(bytes)
            out.flush
            out.fsync
          end
          bytes.bytesize
        end

        # Copies the directory +from+ and everything in it to +to+ (new).
        # @return [Integer] files copied
        def tree(from, to)
          Dir.mkdir(to)
          count = Dir.children(from).sort.sum do |name|
            source = File.join(from, name)
            if File.directory?(source)
              tree(source, File.join(to, name))
            else
              File.open(source, "rb") { |io| file(io, File.join(to, name), io.size) }
              1
            end
          end
          dir(to)
          count
        end

        # Makes a directory's entries durable.
        # @return [nil]
        def dir(path)
          Segmented::AtomicFile.fsync_dir(path)
        end
      end
    end
  end
end
