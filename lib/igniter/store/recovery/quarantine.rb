# frozen_string_literal: true

require "digest"
require "json"
require "time"

module Igniter
  module Store
    module Recovery
      # The quarantine sidecar (doc/format.md "Quarantine"): before an open cuts
      # bytes out of a file it copies them to
      # `<file>.quarantine/<offset:020>-<length>.bin` with a JSON receipt, and makes
      # both durable. Nothing is ever overwritten. The Rust twin is
      # `ext/ledger_core/src/quarantine.rs`.
      module Quarantine
        # Appended to a damaged file's path to name its quarantine directory.
        SUFFIX = ".quarantine"

        module_function

        # @param file [String]
        # @return [String] `<file>.quarantine`
        def dir_for(file)
          file + SUFFIX
        end

        # Copies +bytes+ (found at +offset+ of +file+) into the quarantine directory.
        # An existing copy with the same SHA-256 under the same stem is reused (its
        # receipt written if missing); other bytes under the stem make it take a
        # `-1`, `-2`, … suffix. Data, receipt, the directory (and its parent when
        # the directory is new) are fsynced before this returns.
        #
        # @param file [String] the damaged file
        # @param offset [Integer]
        # @param bytes [String]
        # @param reason [Symbol] :torn, :bad_crc, :oversized, :undecodable, :garbage, :after_damage
        # @return [String] absolute path of the `.bin`
        # @raise [SystemCallError] the copy could not be made durable (nothing is cut then)
        def write(file, offset, bytes, reason)
          dir = dir_for(file)
          created = make_dir(dir)
          fsync_dir(File.dirname(dir)) if created
          sha = Digest::SHA256.hexdigest(bytes)
          base = format("%020d-%d", offset, bytes.bytesize)
          (0..).each do |n|
            stem = n.zero? ? base : "#{base}-#{n}"
            bin = File.join(dir, "#{stem}.bin")
            receipt = File.join(dir, "#{stem}.json")
            line = -> { receipt_json(file, offset, bytes.bytesize, reason, sha, stem) }
            if create_new(bin, bytes)
              create_new(receipt, line.call)
              fsync_dir(dir)
              return File.absolute_path(bin)
            end
            next unless Digest::SHA256.file(bin).hexdigest == sha

            fsync_dir(dir) if create_new(receipt, line.call)
            return File.absolute_path(bin)
          end
        end

        # @return [String] the receipt line (JSON object in the shared key order + "\n")
        def receipt_json(file, offset, length, reason, sha, stem, at = Time.now)
          doc = { "file" => File.absolute_path(file), "offset" => offset, "length" => length,
                  "reason" => reason.to_s, "quarantined_at" => at.utc.iso8601(3), "sha256" => sha,
                  "data" => "#{stem}.bin" }
          "#{JSON.generate(doc)}\n"
        end

        # @return [Boolean] true when +dir+ was created, false when it existed
        def make_dir(dir)
          Dir.mkdir(dir)
          true
        rescue Errno::EEXIST
          false
        end

        # Creates +path+ with +bytes+, fsynced; false when it exists already
        # (never overwritten).
        def create_new(path, bytes)
          File.open(path, File::WRONLY | File::CREAT | File::EXCL | File::BINARY) do |io|
            io.write(bytes)
            io.flush
            io.fsync
          end
          true
        rescue Errno::EEXIST
          false
        end

        # Makes the entries of +dir+ durable.
        # @return [nil]
        def fsync_dir(dir)
          File.open(dir, "r", &:fsync)
          nil
        rescue Errno::EINVAL, Errno::ENOTSUP
          nil # filesystems that cannot fsync a directory
        end
      end
    end
  end
end
