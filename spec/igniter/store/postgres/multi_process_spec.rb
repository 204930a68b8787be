# frozen_string_literal: true

# Real processes over one PostgreSQL ledger: four writers on ten shared keys,
# a fifth writer SIGKILLed mid-run, and a follower in another process.
RSpec.describe "PostgreSQL ledger written by many processes", :postgres do
  include LedgerSpec::Reliability
  include LedgerSpec::ServerHelpers

  WRITES = 1_000
  KEYS = 10

  WRITER = <<~RUBY
    require "igniter-ledger"
    url, schema, name, count, out = ARGV
    store = Igniter::Store.postgres(url, schema: schema)
    File.open(out, "w") do |acks|
      acks.sync = true
      Integer(count).times do |i|
        acks.puts store.write(store: :shared, key: "k\#{i % #{KEYS}}", value: { writer: name, i: i }).id
      end
    end
    store.close
  RUBY

  # Alternates single writes and batches of ten (tagged, to check that a
  # batch is whole) until it is killed; an id is printed once acknowledged.
  VICTIM = <<~RUBY
    require "igniter-ledger"
    url, schema, out = ARGV
    store = Igniter::Store.postgres(url, schema: schema)
    File.open(out, "w") do |acks|
      acks.sync = true
      0.step do |n|
        if n.even?
          acks.puts store.write(store: :shared, key: "k\#{n % #{KEYS}}", value: { writer: "victim", n: n }).id
        else
          batch = Array.new(10) { |j| { store: :shared, key: "k\#{j}", value: { writer: "victim", batch: n } } }
          store.write_batch(batch).each { |fact| acks.puts fact.id }
        end
      end
    end
  RUBY

  FOLLOWER = <<~RUBY
    require "igniter-ledger"
    url, schema, out = ARGV
    backend = Igniter::Store::PostgresBackend.new(url: url, schema: schema, poll_interval: 0.05)
    follower = backend.follow(consumer: "audit", from: :start)
    trap("TERM") { follower.stop }
    File.open(out, "w") do |seen|
      seen.sync = true
      follower.run { |fact, position| seen.puts "\#{position} \#{fact.id}" }
    end
    backend.close
  RUBY

  def lines(path)
    File.exist?(path) ? File.readlines(path, chomp: true) : []
  end

  def sql(query)
    pg_session.exec(query)
  end

  it "keeps every chain whole and positions gapless, and a follower sees each committed fact once, in order" do
    schema = fresh_pg_schema
    pg_backend(schema: schema) # creates the tables before the processes race to
    pids = []
    with_tmpdir do |dir|
      follower_out = File.join(dir, "follower")
      follower, = spawn_ruby(FOLLOWER, args: [pg_url, schema, follower_out])
      victim_out = File.join(dir, "victim")
      victim, = spawn_ruby(VICTIM, args: [pg_url, schema, victim_out])
      writers = Array.new(4) do |w|
        out = File.join(dir, "writer#{w}")
        [spawn_ruby(WRITER, args: [pg_url, schema, "w#{w}", WRITES.to_s, out]).first, out]
      end
      pids.concat([follower, victim, *writers.map(&:first)])

      poll_until(timeout: 60, message: "the writers got going") do
        lines(victim_out).size >= 50 && writers.sum { |_, out| lines(out).size } >= 400
      end
      Process.kill(:KILL, victim)
      Process.wait(victim)
      killed_at = Process.clock_gettime(Process::CLOCK_REALTIME)

      writers.each { |pid, _| Process.wait(pid) }
      expect(writers.map { |_, out| lines(out).size }).to eq([WRITES] * 4)

      total = sql(%(SELECT count(*) FROM "#{schema}".facts)).getvalue(0, 0).to_i
      poll_until(timeout: 30, message: "the follower caught up") { lines(follower_out).size >= total }
      Process.kill(:TERM, follower)
      Process.wait(follower)

      rows = sql(%(SELECT position, id, key, key_version, causation, transaction_time, body
                   FROM "#{schema}".facts ORDER BY position)).to_a
      # Gapless, commit-ordered positions; strictly rising transaction time; unique ids.
      expect(rows.map { |r| r["position"].to_i }).to eq((1..total).to_a)
      times = rows.map { |r| r["transaction_time"].to_f }
      expect(times.each_cons(2).all? { |x, y| y > x }).to be(true)
      expect(rows.map { |r| r["id"] }.uniq.size).to eq(total)
      expect(sql(%(SELECT position, fact_count FROM "#{schema}".clock)).values).to eq([[total.to_s, total.to_s]])

      # Every chain whole: each fact's causation is the previous fact of its key.
      rows.group_by { |r| r["key"] }.each_value do |chain|
        expect(chain.map { |r| r["key_version"].to_i }).to eq((1..chain.size).to_a)
        expect(chain.map { |r| r["causation"] }).to eq([nil] + chain[0..-2].map { |r| r["id"] })
      end
      expect(rows.map { |r| r["key"] }.uniq.size).to eq(KEYS)

      # Nothing acknowledged is lost; the killed writer left no partial batch.
      ids = rows.to_set { |r| r["id"] }
      acked = writers.flat_map { |_, out| lines(out) } + lines(victim_out)
      expect(acked.reject { |id| ids.include?(id) }).to eq([])
      values = rows.map { |r| Igniter::Store::JsonCanon.decode_fact_body(r["body"])[:value] }
      batches = values.select { |v| v[:batch] }.group_by { |v| v[:batch] }
      expect(batches.values.map(&:size).uniq).to eq([10])

      # The others went on within a second of the kill.
      expect(times.find { |t| t > killed_at }).to be_within(1.0).of(killed_at)

      # The follower saw every committed fact exactly once, in commit order.
      seen = lines(follower_out).map(&:split)
      expect(seen).to eq(rows.map { |r| [r["position"], r["id"]] })
    end
  ensure
    pids.each do |pid|
      Process.kill(:KILL, pid)
      Process.wait(pid)
    rescue Errno::ESRCH, Errno::ECHILD
      nil
    end
  end
end
