# frozen_string_literal: true

require_relative "command"
require_relative "export_file"
require_relative "ledger_writer"

module Igniter
  module Store
    module CLI
      # `igniter-ledger import PATH FILE`: appends the facts of an export to a
      # ledger, ids, causation and times kept. Idempotent by fact id: a fact
      # whose id the ledger holds already is skipped, so importing a file
      # again adds nothing.
      #
      # All or nothing per file: every line is decoded and checked first — a
      # bad line, or an id the ledger holds with other content, stops the
      # import naming the line, before anything is written. Only a write the
      # disk refuses can stop it halfway; the facts before it are in the
      # ledger and importing the file again adds the rest.
      class Import < Command
        # A write that failed halfway; the message says how far it got.
        class InterruptedError < Error; end

        # The usage line of `--help` and of usage mistakes.
        USAGE = "Usage: igniter-ledger import PATH FILE [--segmented] [--codec C] [--json]   (FILE - reads stdin)"
        # The positional arguments, by name.
        ARGUMENTS = %i[path file].freeze
        # PATH is created when it does not exist.
        WRITES = %i[path].freeze

        # @return [String]
        def self.summary
          "append the facts of an export to a ledger (idempotent by fact id; a bad line imports nothing)"
        end

        private

        def options(parser, opts)
          parser.on("--segmented", "create PATH as a segmented directory when it does not exist (default: a WAL)") do
            opts[:segmented] = true
          end
          parser.on("--codec C", "codec of new stores in a segmented ledger: json_crc32 (default), " \
                                 "compact_delta_zlib") do |v|
            Codecs.klass(v)
            opts[:codec] = v
          rescue ArgumentError => e
            raise UsageError, "--codec: #{e.message}"
          end
          super
        end

        def execute(opts)
          lines = read_file(opts)
          kind = File.exist?(opts[:path]) ? LedgerPath.kind(opts[:path]) : (opts[:segmented] ? :segmented : :wal)
          if kind == :wal && (opts[:segmented] || opts[:codec])
            raise UsageError, "#{opts[:path]} is a WAL: --segmented and --codec are for segmented ledgers"
          end
          store = open_store(opts, kind, lines)
          begin
            fresh = new_facts(store, lines, opts[:file])
            imported = apply(store, fresh, opts)
          ensure
            store.close
          end
          report(opts, kind, lines, imported)
          0
        end

        def read_file(opts)
          name = opts[:file]
          return ExportFile.read($stdin.binmode, "stdin") if name == "-"

          File.open(name, "rb") do |io|
            bar = progress(opts, "read", io.size)
            facts = ExportFile.read(io, name, progress: bar)
            bar.finish
            facts
          end
        end

        # A writer's open: the ledger's own recovery runs as for any writer.
        # A segmented ledger keeps each store's codec and its time buckets;
        # stores it does not have yet get --codec.
        def open_store(opts, kind, lines)
          return Igniter::Store.open(opts[:path]) if kind == :wal

          layout = if File.directory?(opts[:path])
                     SegmentedAtRest.layout(opts[:path])
                   else
                     { codecs: {}, time_bucket: :day }
                   end
          fresh = lines.map { |_, f| f.store.to_s }.uniq - layout[:codecs].keys
          codec = opts[:codec] || SegmentedFileBackend::DEFAULT_CODEC.to_s
          codecs = layout[:codecs].merge(fresh.to_h { |s| [s, codec] })
          Igniter::Store.segmented(opts[:path], codec: codecs, time_bucket: layout[:time_bucket])
        end

        # The facts whose ids the ledger does not hold.
        # @raise [ExportFile::BadLineError] an id the ledger holds with other content
        def new_facts(store, lines, name)
          lines.reject do |number, fact|
            existing = store.fact_by_id(fact.id)
            next false unless existing
            next true if JsonCanon.fact_body(existing) == JsonCanon.fact_body(fact)

            raise ExportFile::BadLineError.new(name, number,
                                               "fact #{fact.id} is in the ledger already, with other content")
          end.map(&:last)
        end

        def apply(store, facts, opts)
          bar = progress(opts, "import", facts.size)
          facts.each_with_index do |fact, i|
            store.ingest_fact(fact)
            bar.progress = i + 1
          rescue SystemCallError, IOError, Error => e
            progress = "(imported #{i} of #{facts.size} new facts before it; importing the file again adds only the rest)"
            raise FilesystemFailure.refused(e, writing: [opts[:path]], detail: progress) if FilesystemFailure.handles?(e)

            raise InterruptedError, "#{e.message} #{progress}"
          end
          bar.finish
          facts
        end

        def report(opts, kind, lines, imported)
          stores = imported.group_by { |f| f.store.to_s }.transform_values(&:size)
          doc = { path: File.absolute_path(opts[:path]), kind: kind, file: opts[:file], facts_in_file: lines.size,
                  imported: imported.size, already_present: lines.size - imported.size, stores: stores }
          return Output.json(@out, doc) if opts[:json]

          per_store = stores.map { |s, n| "#{s} #{Output.number(n)}" }.join(", ")
          @out.puts("#{opts[:file]}: #{Output.count(lines.size, "fact")}; imported #{Output.number(imported.size)}" \
                    "#{" (#{per_store})" unless per_store.empty?}, #{Output.number(doc[:already_present])} " \
                    "already in #{Output.display(doc[:path])} (same id)")
        end
      end

      register("import", Import)
    end
  end
end
