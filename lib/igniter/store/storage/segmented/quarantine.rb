# frozen_string_literal: true

require "digest"
require "fileutils"
require_relative "../quarantine_sidecar"

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
        extend QuarantineSidecar

        # Appended to a segment's path to name its quarantine directory.
        SUFFIX = QuarantineSidecar::SUFFIX

        module_function

        # @return [Boolean] true when +dir+ was created, false when it existed
        def make_dir(dir)
          created = !File.directory?(dir)
          FileUtils.mkdir_p(dir)
          created
        end

        # Reusing a copy fsyncs the directory too: an earlier open may have
        # stopped before its own directory fsync. @return [true]
        def sync_reused?
          true
        end

        # @return [Boolean] true when +path+ was created with +bytes+ (never overwritten)
        def create_new(path, bytes)
          !File.exist?(path) && create(path, bytes)
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
      end
    end
  end
end
