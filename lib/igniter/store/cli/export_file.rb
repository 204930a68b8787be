# frozen_string_literal: true

module Igniter
  module Store
    module CLI
      # An NDJSON export read back for `import`: every line decoded and
      # checked before anything is written, so a bad line stops the import
      # with nothing of the file applied.
      module ExportFile
        # A line that is not a fact `import` can take; names the line.
        class BadLineError < Error
          # @return [Integer] 1-based line number
          attr_reader :line

          # @param file [String]
          # @param line [Integer]
          # @param problem [String]
          def initialize(file, line, problem)
            @line = line
            super("#{file} line #{line}: #{problem}; nothing was imported")
          end
        end

        # How `Fact._load` starts the rule a body breaks (both paths).
        NOT_A_FACT = "marshal data is not a fact: "

        module_function

        # @param io [IO] the export
        # @param name [String] for messages
        # @param progress [#progress=] told the bytes read so far
        # @return [Array<Array(Integer, Fact)>] line number and fact, duplicates
        #   of an earlier line (same id, same body) left out
        # @raise [BadLineError] the first line that is not a fact (not strict
        #   JSON, breaks a decode rule of doc/format.md, has no id, a value_hash
        #   that does not match its value) or repeats an id with other content
        def read(io, name, progress: Progress::NONE)
          seen = {}
          facts = []
          done = 0
          io.each_line.with_index(1) do |line, number|
            progress.progress = (done += line.bytesize)
            body = line.chomp
            next if body.strip.empty?

            fact = fact(name, number, body)
            if (first = seen[fact.id])
              next if first[1] == body

              raise BadLineError.new(name, number,
                                     "fact id #{fact.id} is on line #{first[0]} already, with other content")
            end
            seen[fact.id] = [number, body]
            facts << [number, fact]
          end
          facts
        end

        # The line decoded as a WAL body (`Fact._load`: in Rust on the native
        # path), which must name its id.
        # @return [Fact]
        def fact(name, number, body)
          fact = begin
            Fact._load(body)
          rescue ArgumentError => e
            raise BadLineError.new(name, number, "not a fact (#{e.message.delete_prefix(NOT_A_FACT)})")
          end
          # A body without an id decodes with a fresh one: importing it twice
          # would add it twice.
          raise BadLineError.new(name, number, "the fact has no id") unless JsonCanon.parse_object(body)&.key?(:id)

          expected = JsonCanon.value_hash(fact.value)
          unless fact.value_hash.nil? || fact.value_hash == expected
            raise BadLineError.new(name, number, "value_hash #{fact.value_hash} does not match the value (#{expected})")
          end

          fact
        end
        private_class_method :fact
      end
    end
  end
end
