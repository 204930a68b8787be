# frozen_string_literal: true

require "digest"
require "json"

module Igniter
  module Store
    module CLI
      # What the quarantine sidecars (doc/format.md "Quarantine") hold, and
      # whether each copy is still whole: its `.bin` present, as long as the
      # receipt says, with the receipt's SHA-256. A quarantined span is the
      # only copy of bytes an open cut, so a copy that fails is damage.
      module QuarantineCheck
        # One receipt (or a `.bin` without one); `problem` is nil for a sound copy.
        Entry = Struct.new(:receipt, :data, :file, :offset, :length, :reason, :quarantined_at, :sha256, :problem,
                           keyword_init: true)

        # A receipt's stem: offset (20 digits), length, optional `-N` suffix.
        STEM = /\A\d{20}-\d+(?:-\d+)?\z/.freeze

        module_function

        # @param dirs [Array<String>] quarantine directories (missing ones are skipped)
        # @return [Array<Entry>] by directory, then stem
        def entries(dirs)
          dirs.select { |dir| File.directory?(dir) }.sort.flat_map { |dir| in_dir(dir) }
        end

        def in_dir(dir)
          stems = Dir.children(dir).filter_map do |name|
            stem = name.sub(/\.(?:bin|json)\z/, "")
            stem if stem != name && stem.match?(STEM)
          end
          stems.uniq.sort.map { |stem| entry(dir, stem) }
        end

        def entry(dir, stem)
          receipt = File.join(dir, "#{stem}.json")
          bin = File.join(dir, "#{stem}.bin")
          return Entry.new(data: bin, problem: "no receipt for #{File.basename(bin)}") unless File.file?(receipt)

          doc = begin
            JSON.parse(File.read(receipt))
          rescue JSON::ParserError, EncodingError
            nil
          end
          return Entry.new(receipt: receipt, data: bin, problem: "receipt is not a JSON object") unless doc.is_a?(Hash)

          data = File.join(dir, File.basename(doc["data"].to_s))
          Entry.new(receipt: receipt, data: data, file: doc["file"], offset: doc["offset"], length: doc["length"],
                    reason: doc["reason"], quarantined_at: doc["quarantined_at"], sha256: doc["sha256"],
                    problem: problem(data, doc))
        end

        def problem(data, doc)
          return "data file #{File.basename(data)} is missing" unless File.file?(data)

          size = File.size(data)
          name = File.basename(data)
          return "#{name} holds #{size} bytes, the receipt says #{doc["length"]}" unless size == doc["length"]
          return nil if Digest::SHA256.file(data).hexdigest == doc["sha256"]

          "#{name} does not match the receipt's sha256"
        end
        private_class_method :in_dir, :entry, :problem
      end
    end
  end
end
