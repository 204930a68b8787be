# frozen_string_literal: true

module Igniter
  module Store
    module Segmented
      # Sidecar writes: a tmp file renamed over the target, so readers see the
      # old or the new document, never half of one. With `sync: true` the tmp
      # file is fsynced before the rename and the directory after it, so the
      # sidecar survives power loss once this returns.
      module AtomicFile
        # Appended to a sidecar being written.
        TMP_SUFFIX = ".tmp"

        module_function

        # @param path [String]
        # @param doc [Hash] written as compact JSON
        # @param sync [Boolean]
        # @return [nil]
        def write_json(path, doc, sync:)
          tmp = path + TMP_SUFFIX
          File.open(tmp, "wb") do |io|
            io.write(JSON.generate(doc))
            if sync
              io.flush
              io.fsync
            end
          end
          File.rename(tmp, path)
          fsync_dir(File.dirname(path)) if sync
          nil
        end

        # @return [Hash, nil] the JSON object at path; nil when missing or unparsable
        def read_json(path)
          doc = JSON.parse(File.read(path))
          doc.is_a?(Hash) ? doc : nil
        rescue JSON::ParserError, SystemCallError, EncodingError
          nil
        end

        # Makes a directory's entries (created, renamed, deleted files) durable.
        # @return [nil]
        def fsync_dir(dir)
          File.open(dir, "r", &:fsync)
          nil
        rescue SystemCallError, IOError
          nil # not every filesystem can fsync a directory
        end
      end
    end
  end
end
