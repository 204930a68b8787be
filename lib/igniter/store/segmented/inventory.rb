# frozen_string_literal: true

module Igniter
  module Store
    module Segmented
      # What a segmented directory may hold (doc/format.md "Segmented
      # storage"); everything else is reported as unrecognized and never
      # touched.
      module Inventory
        # At the root: the lock file, and the protocol descriptor journal that
        # Protocol::DescriptorJournal keeps beside the segments (with its tmp).
        ROOT_FILES = [Lock::FILE, "protocol_descriptors.json", "protocol_descriptors.json.tmp"].freeze
        # Name of a segment or one of its sidecars.
        SEGMENT_FILE = /\Asegment-\d+\.wal(?:\.(?:manifest|purged|quarantine)\.json(?:\.tmp)?)?\z/.freeze
        # Name of a segment's quarantine directory.
        QUARANTINE_DIR = /\Asegment-\d+\.wal#{Regexp.escape(Quarantine::SUFFIX)}\z/.freeze
        # Name of a file inside a quarantine directory.
        QUARANTINE_FILE = /\A\d{20}-\d+(?:-\d+)?\.(?:bin|json)(?:\.tmp\.\d+\.\d+)?\z/.freeze

        module_function

        # @param root [String]
        # @return [Array<String>] paths (files or directories) that are not part
        #   of the ledger, sorted; a directory is listed once, not descended into
        def unrecognized(root)
          found = []
          each_child(root) do |path, name|
            if name == "wal" && File.directory?(path)
              wal(path, found)
            elsif !(ROOT_FILES.include?(name) && File.file?(path))
              found << path
            end
          end
          found.sort
        end

        # Adds to +found+ what `wal/` holds besides `store=<name>/date=<bucket>/` directories.
        def wal(dir, found)
          each_child(dir) do |path, name|
            next found << path unless File.directory?(path) && store_dir?(name)

            each_child(path) do |bucket_path, bucket|
              next found << bucket_path unless File.directory?(bucket_path) && bucket.start_with?("date=")

              bucket_dir(bucket_path, found)
            end
          end
        end

        def store_dir?(name)
          name.start_with?("store=") && Layout.store_name!(name.delete_prefix("store=")) && true
        rescue InvalidStoreNameError
          false
        end

        # Adds to +found+ what a bucket directory holds besides segments, their sidecars and
        # their quarantine files.
        def bucket_dir(dir, found)
          each_child(dir) do |path, name|
            if name.match?(QUARANTINE_DIR) && File.directory?(path)
              each_child(path) { |q_path, q_name| found << q_path unless q_name.match?(QUARANTINE_FILE) && File.file?(q_path) }
            elsif !(name.match?(SEGMENT_FILE) && File.file?(path))
              found << path
            end
          end
        end

        # Yields (path, name) of each entry of +dir+; an unreadable directory yields nothing.
        def each_child(dir)
          Dir.children(dir).each { |name| yield File.join(dir, name), name }
        rescue SystemCallError
          nil
        end
      end
    end
  end
end
