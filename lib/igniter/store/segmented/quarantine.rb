# frozen_string_literal: true

require "digest"
require "fileutils"
require "json"
require "time"

module Igniter
  module Store
    module Segmented
      # The quarantine sidecar of a segment (doc/format.md "Quarantine"):
      # bytes recovery skips or cuts are first copied to
      # `<segment>.quarantine/<offset:020>-<length>.bin` with a one-line JSON
      # receipt `<same stem>.json`, both made durable (fsynced with the
      # directory, under every durability policy: the copy must be on disk
      # before the original is cut). Nothing is overwritten: a stem holding
      # other bytes gets a `-1`, `-2`, … suffix; the same bytes again reuse it.
      module Quarantine
        # Appended to a segment's path to name its quarantine directory.
        SUFFIX = ".quarantine"

        module_function

        # @param file [String]
        # @return [String] `<file>.quarantine`
        def dir_for(file)
          file + SUFFIX
        end

        # Copies +bytes+ (found at +offset+ of +file+) into the sidecar.
        #
        # @param file [String] the damaged segment
        # @param offset [Integer]
        # @param bytes [String]
        # @param reason [Symbol] :torn, :bad_crc, :oversized, :undecodable, :garbage, :after_damage
        # @return [String] absolute path of the `.bin`
        # @raise [SystemCallError] the copy could not be made durable (the caller then cuts nothing)
        def write(file, offset, bytes, reason)
          dir = dir_for(file)
          created = !File.directory?(dir)
          FileUtils.mkdir_p(dir)
          fsync_dir(File.dirname(dir)) if created
          sha = Digest::SHA256.hexdigest(bytes)
          each_stem(offset, bytes.bytesize) do |stem|
            bin = File.join(dir, "#{stem}.bin")
            receipt = File.join(dir, "#{stem}.json")
            created_bin = !File.exist?(bin) && create(bin, bytes)
            next unless created_bin || Digest::SHA256.file(bin).hexdigest == sha
            create(receipt, receipt_json(file, offset, bytes.bytesize, reason, sha, stem)) unless File.exist?(receipt)
            fsync_dir(dir)
            return File.absolute_path(bin)
          end
        end

        # The copy of +bytes+ an earlier open made, without writing anything
        # (what a read-only open reports).
        #
        # @return [String, nil] absolute path of the `.bin`, nil when there is none
        def find(file, offset, bytes)
          dir = dir_for(file)
          return nil unless File.directory?(dir)

          sha = nil
          each_stem(offset, bytes.bytesize) do |stem|
            bin = File.join(dir, "#{stem}.bin")
            return nil unless File.exist?(bin)

            sha ||= Digest::SHA256.hexdigest(bytes)
            return File.absolute_path(bin) if Digest::SHA256.file(bin).hexdigest == sha
          end
        end

        # @return [String] the receipt line: JSON object in the shared key order + "\n"
        def receipt_json(file, offset, length, reason, sha, stem, at = Time.now)
          doc = { "file" => File.absolute_path(file), "offset" => offset, "length" => length,
                  "reason" => reason.to_s, "quarantined_at" => at.utc.iso8601(3), "sha256" => sha,
                  "data" => "#{stem}.bin" }
          "#{JSON.generate(doc)}\n"
        end

        # Yields the candidate file stems of a span: `<offset 20 digits>-<length>`, then with
        # `-1`, `-2`, … appended (doc/format.md "Segments: quarantine").
        def each_stem(offset, length)
          base = format("%020d-%d", offset, length)
          (0..).each { |n| yield n.zero? ? base : "#{base}-#{n}" }
        end

        # Writes +bytes+ to a private temporary file, fsyncs it and links it
        # into place, so a `.bin` or receipt is always complete and never
        # replaces another. @return [Boolean] false when +path+ exists already
        def create(path, bytes)
          tmp = "#{path}.tmp.#{Process.pid}.#{Thread.current.object_id}"
          File.open(tmp, File::WRONLY | File::CREAT | File::TRUNC | File::BINARY, 0o644) do |io|
            io.write(bytes)
            io.flush
            io.fsync
          end
          link(tmp, path)
        ensure
          File.unlink(tmp) if tmp && File.exist?(tmp)
        end

        # Links +tmp+ to +path+ unless +path+ exists; without hard links, renames it after an
        # existence check. @return [Boolean] true when +path+ now holds +tmp+'s bytes
        def link(tmp, path)
          File.link(tmp, path)
          true
        rescue Errno::EEXIST
          false
        rescue Errno::EPERM, Errno::ENOTSUP, Errno::EOPNOTSUPP
          # No hard links here: an exclusive create is the next best thing.
          return false if File.exist?(path)

          File.rename(tmp, path)
          true
        end

        # Makes the entries of +dir+ durable (a no-op where directories cannot be fsynced).
        def fsync_dir(dir)
          File.open(dir, "r", &:fsync)
        rescue Errno::EINVAL, Errno::ENOTSUP
          nil # filesystems that cannot fsync a directory
        end
      end
    end
  end
end
