# frozen_string_literal: true

# A child process writes facts and prints each fact's id once `write` has
# returned (under the backend's fsync policy, that is when the fact is
# durable). The parent SIGKILLs it at a random point, several times on the
# same files; after every kill a reopen must hold every reported fact, in
# order, with each key's causation chain intact. At most one unreported fact
# per kill may also be present (written, killed before the id was printed).
module LedgerSpec
  # Namespace for this file's constants (a describe block would put them on Object).
  module ProcessKillSpec
    RSpec.describe "Facts reported durable survive SIGKILL of the writer" do
      include LedgerSpec::Reliability

      KILLS = 5
      ROUND_SECONDS = 10

      CHILD = <<~RUBY
        require "igniter-ledger"
        kind, path, durability = ARGV
        durability = durability.start_with?("group") ? { group: Integer(durability.split(":")[1]) } : durability.to_sym
        backend = if kind == "file"
                    Igniter::Store::FileBackend.new(path, durability: durability)
                  else
                    Igniter::Store::SegmentedFileBackend.new(path, durability: durability, time_bucket: :none)
                  end
        store = Igniter::Store::IgniterStore.new(backend: backend)
        backend.replay.each { |fact| store.__send__(:replay, fact) }
        $stdout.sync = true
        i = store.fact_count
        loop do
          fact = store.write(store: :events, key: "k\#{i % 3}", value: { i: i, pad: "x" * (i % 40) })
          $stdout.write("\#{fact.id}\\n")
          i += 1
        end
      RUBY

      around { |ex| with_tmpdir { |dir| @dir = dir; ex.run } }

      def reopen(kind, path)
        kind == "file" ? open_file_store(path) : open_segmented_store(path, time_bucket: :none)
      end

      # Runs KILLS rounds; returns [reported ids, facts after the last reopen].
      def kill_rounds(kind, path, durability)
        rng = Random.new(RSpec.configuration.seed)
        reported = []
        KILLS.times do
          pid, io = spawn_ruby(CHILD, args: [kind, path, durability])
          begin
            lines, partial = read_lines(io, rng.rand(1..30), monotonic + ROUND_SECONDS)
            sleep(rng.rand * 0.004) # land the kill anywhere in the next write
          ensure
            kill_and_reap(pid)
          end
          # Ids printed before the kill but not yet read count as reported too;
          # a torn last line (no newline) does not.
          rest, = read_lines(io, Float::INFINITY, monotonic + 1, partial)
          io.close
          reported.concat(lines + rest)
          expect(lines).not_to be_empty, "the child wrote nothing within #{ROUND_SECONDS} s"

          store = reopen(kind, path)
          ids = fact_ids(store)
          expect(reported - ids).to be_empty
          expect(ids & reported).to eq(reported)
          store.close
        end
        store = reopen(kind, path)
        facts = store.fact_log_all
        store.close
        [reported, facts]
      end

      [
        ["file", :fsync], ["file", "group:4"], ["file", :flush], ["segmented", :fsync]
      ].each do |kind, durability|
        it "keeps every reported fact of a #{kind} store (durability #{durability}) across #{KILLS} kills" do
          path = File.join(@dir, kind == "file" ? "ledger.wal" : "segments")
          reported, facts = kill_rounds(kind, path, durability.to_s)

          ids = facts.map(&:id)
          expect(ids & reported).to eq(reported)
          expect(ids.size - reported.size).to be_between(0, KILLS)
          expect(broken_causation(facts)).to be_empty
          expect(facts.map { |f| f.value[:i] }).to eq((0...facts.size).to_a)
        end
      end
    end
  end
end
