# frozen_string_literal: true

require "digest"
require "json"
require "time"

module Igniter
  module Store
    # What the single-file and the segmented quarantine share (doc/format.md
    # "Quarantine"): the `<file>.quarantine` directory, the
    # `<offset:020>-<length>[-n]` stems, the one-line JSON receipt in the shared
    # key order, the copy-then-receipt order and the directory fsync.
    # {Recovery::Quarantine} and {Segmented::Quarantine} extend it and keep their
    # own way of making the directory and of creating a file without overwriting
    # one (`make_dir(dir)`, `create_new(path, bytes)`, each true when it created),
    # and say with `sync_reused?` whether reusing an earlier copy fsyncs the
    # directory again.
    module QuarantineSidecar
      # Appended to a damaged file's path to name its quarantine directory.
      SUFFIX = ".quarantine"

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
      # @raise [SystemCallError] the copy could not be made durable (the caller then cuts nothing)
      def write(file, offset, bytes, reason)
        dir = dir_for(file)
        fsync_dir(File.dirname(dir)) if make_dir(dir)
        sha = Digest::SHA256.hexdigest(bytes)
        each_stem(offset, bytes.bytesize) do |stem|
          bin = File.join(dir, "#{stem}.bin")
          fresh = create_new(bin, bytes)
          next unless fresh || Digest::SHA256.file(bin).hexdigest == sha

          receipt = create_new(File.join(dir, "#{stem}.json"), receipt_json(file, offset, bytes.bytesize, reason, sha, stem))
          fsync_dir(dir) if fresh || receipt || sync_reused?
          return File.absolute_path(bin)
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
      #
      # @param offset [Integer]
      # @param length [Integer]
      # @yieldparam stem [String]
      def each_stem(offset, length)
        base = format("%020d-%d", offset, length)
        (0..).each { |n| yield n.zero? ? base : "#{base}-#{n}" }
      end

      # Makes the entries of +dir+ durable (a no-op where directories cannot be fsynced).
      #
      # @param dir [String]
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
