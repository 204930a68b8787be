# frozen_string_literal: true

require "net/http"

# A server opened on a damaged ledger says what the open recovered and
# quarantined: one start-up log line per damaged file (warn), an info line
# when clean, and a `recovery` section in /v1/status and the op-protocol
# `server_status`/`stats` replies.
RSpec.describe "Servers reporting recovery", :servers, :in_tmpdir do
  def write_wal(path, count)
    store = Igniter::Store.open(path)
    count.times { |i| store.write(store: :tasks, key: "t#{i}", value: { title: "task #{i}", n: i }) }
    store.close
  end

  # Opens a copy of +path+ with a FileBackend to learn what that open reports by itself.
  def own_report_of(path)
    copy_dir = File.join(@dir, "copy-#{SecureRandom.hex(4)}")
    Dir.mkdir(copy_dir)
    copy = File.join(copy_dir, File.basename(path))
    FileUtils.cp(path, copy)
    backend = Igniter::Store::FileBackend.new(copy)
    backend.recovery
  ensure
    backend&.close
  end

  def serve(backend:, path:)
    log = StringIO.new
    server = Igniter::Store::StoreServer.new(port: 0, backend: backend, path: path, drain_timeout: 0.2,
                                             logger: Igniter::Store::ServerLogger.new(log, :info))
    tracked_servers << server
    server.start_adapters(http_port: 0)
    server.start_async
    poll_until(message: "server did not start") { log.string.include?("Listening on") }
    [server, log]
  end

  def status_over_http(server)
    port = Integer(server.http_adapter.bind_address.split(":").last)
    response = Net::HTTP.start("127.0.0.1", port, open_timeout: 2, read_timeout: 5) { |h| h.get("/v1/status") }
    expect(response.code).to eq("200")
    JSON.parse(response.body)
  end

  def recovery_lines(log)
    log.string.lines.grep(/ Recovery: /)
  end

  # The file entry agrees with the backend's own report, key by key, as JSON.
  def expect_same_facts(entry, own)
    own.each do |key, value|
      next if key == :quarantined

      expect(entry[key.to_s]).to eq(value.is_a?(Symbol) ? value.to_s : value), "#{key} differs"
    end
    own_spans = Array(own[:quarantined]).map { |span| [span[:offset], span[:length], span[:reason].to_s] }
    expect(entry["quarantined"].map { |span| [span["offset"], span["length"], span["reason"]] }).to eq(own_spans)
  end

  describe "a file ledger" do
    let(:wal) { File.join(@dir, "ledger.wal") }

    it "logs an info line and reports a clean open, with the WAL's storage facts" do
      write_wal(wal, 3)
      bytes = File.size(wal)
      server, log = serve(backend: :file, path: wal)

      expect(recovery_lines(log).size).to eq(1)
      expect(recovery_lines(log).first).to include("INFO  server: Recovery: #{wal} opened clean (#{bytes} bytes")
      status = status_over_http(server)
      expect(status["recovery"]).to include("clean" => true, "damaged_files" => 0)
      expect(status["recovery"]["files"].size).to eq(1)
      expect(status["recovery"]["files"].first).to include("file" => wal, "tail" => "clean", "truncated_bytes" => 0,
                                                           "original_bytes" => bytes, "valid_bytes" => bytes,
                                                           "quarantined" => [])
      expect(status["storage"]).to include("backend" => "file", "path" => wal, "wal_bytes" => bytes,
                                           "snapshot_bytes" => nil, "durability" => "flush")
    end

    it "reports a byte flipped in the middle of the WAL in the log, /v1/status, server_status and stats" do
      write_wal(wal, 6)
      damaged = File.binread(wal)
      middle = damaged.bytesize / 2
      damaged.setbyte(middle, damaged.getbyte(middle) ^ 0xFF)
      File.binwrite(wal, damaged)
      own = own_report_of(wal)
      server, log = serve(backend: :file, path: wal)

      lines = recovery_lines(log)
      expect(lines.size).to eq(1)
      expect(lines.first).to include("WARN  server: Recovery: #{wal} damaged (tail=#{own[:tail]}")
      expect(lines.first).to include("cut #{own[:truncated_bytes]} bytes")
      Array(own[:quarantined]).each { |span| expect(lines.first).to include("#{span[:reason]}@#{span[:offset]}+") }

      status = status_over_http(server)
      report = status["recovery"]
      expect(report).to include("clean" => false, "damaged_files" => 1)
      entry = report["files"].first
      expect(entry["file"]).to eq(wal)
      expect(entry["original_bytes"]).to eq(damaged.bytesize)
      expect(entry["tail"]).not_to eq("clean")
      expect(entry["truncated_bytes"] + entry["quarantined"].sum { |span| span["length"] }).to be_positive
      expect_same_facts(entry, own)
      entry["quarantined"].each { |span| expect(File.exist?(span["quarantine_path"])).to be(true) }
      expect(status["storage"]).to include("path" => wal, "wal_bytes" => File.size(wal))

      client = client_for(server)
      expect(client.send(:rpc, "server_status")[:recovery]).to eq(JSON.parse(JSON.generate(report),
                                                                             symbolize_names: true))
      expect(client.send(:rpc, "stats")[:recovery][:files].first[:file]).to eq(wal)
    end

    it "reports a tail cut mid-frame as torn, and the server keeps every whole frame" do
      write_wal(wal, 4)
      frames = parse_frames(wal)
      cut = frames.last[:size] / 2
      File.truncate(wal, File.size(wal) - cut)
      own = own_report_of(wal)
      server, log = serve(backend: :file, path: wal)

      expect(recovery_lines(log).size).to eq(1)
      expect(recovery_lines(log).first).to include("WARN  server: Recovery: #{wal} damaged (tail=torn")
      entry = status_over_http(server)["recovery"]["files"].first
      expect(entry["tail"]).to eq("torn")
      expect_same_facts(entry, own)
      expect(client_for(server).send(:rpc, "stats")[:facts_written]).to eq(3)
    end
  end

  describe "a segmented ledger" do
    let(:root) { File.join(@dir, "segments") }

    def write_segments(count)
      store = Igniter::Store.segmented(root, time_bucket: :none)
      count.times { |i| store.write(store: :readings, key: "r#{i}", value: { n: i }) }
      store.close
      Dir.glob(File.join(root, "wal", "store=readings", "*", "segment-*.wal")).first
    end

    it "reports a clean open with an info line and the backend's storage statistics" do
      write_segments(3)
      server, log = serve(backend: :segmented, path: root)

      expect(recovery_lines(log).size).to eq(1)
      expect(recovery_lines(log).first).to include("INFO  server: Recovery: #{root} opened clean")
      status = status_over_http(server)
      expect(status["recovery"]).to include("clean" => true, "damaged_files" => 0)
      expect(status["storage"]["stores"]["readings"]).to include("fact_count" => 3)
    end

    it "reports the torn tail of a segment a crash left unsealed, one warn line for that file" do
      segment = write_segments(4)
      File.delete(segment + Igniter::Store::SegmentedFileBackend::MANIFEST_SUFFIX)
      frames = parse_frames(segment)
      File.truncate(segment, File.size(segment) - (frames.last[:size] / 2))
      server, log = serve(backend: :segmented, path: root)

      lines = recovery_lines(log)
      expect(lines.size).to eq(1)
      expect(lines.first).to include("WARN  server: Recovery: #{segment} damaged")
      report = status_over_http(server)["recovery"]
      expect(report).to include("clean" => false, "damaged_files" => 1)
      damaged = report["files"].select { |file| file["truncated_bytes"].positive? || file["quarantined"].any? }
      expect(damaged.map { |file| file["file"] }).to eq([segment])
      expect(client_for(server).send(:rpc, "stats")[:facts_written]).to eq(3)
    end
  end

  describe Igniter::Store::Server::RecoveryReport do
    span = { file: "/d/ledger.wal", offset: 40, length: 12, reason: :bad_crc,
             quarantine_path: "/d/ledger.wal.quarantine/00000000000000000040-12.bin" }

    it "reads the file backend's report with every key, Symbols as Strings" do
      raw = { original_bytes: 100, valid_bytes: 88, truncated_bytes: 0, tail: :bad_crc, mode: :salvage,
              quarantined: [span], salvaged_frames: 2, damaged_spans: 1 }.freeze
      report = described_class.build(raw, default_file: "/d/ledger.wal")

      expect(report).to eq(
        "clean" => false, "damaged_files" => 1,
        "files" => [{ "file" => "/d/ledger.wal", "mode" => "salvage", "tail" => "bad_crc", "original_bytes" => 100,
                      "valid_bytes" => 88, "truncated_bytes" => 0, "salvaged_frames" => 2, "damaged_spans" => 1,
                      "quarantined" => [{ "file" => "/d/ledger.wal", "offset" => 40, "length" => 12,
                                          "reason" => "bad_crc", "quarantine_path" => span[:quarantine_path] }] }]
      )
      expect(report).to be_frozen
      expect(report["files"].first["quarantined"].first).to be_frozen
    end

    it "reads the older four-key report, leaving the facts it lacks nil" do
      report = described_class.build({ original_bytes: 10, valid_bytes: 10, truncated_bytes: 0, tail: :clean },
                                     default_file: "/d/l.wal")

      expect(report["clean"]).to be(true)
      expect(report["files"]).to eq([{ "file" => "/d/l.wal", "mode" => nil, "tail" => "clean", "original_bytes" => 10,
                                       "valid_bytes" => 10, "truncated_bytes" => 0, "salvaged_frames" => nil,
                                       "damaged_spans" => nil, "quarantined" => [] }])
    end

    it "reads the segmented backend's orphan list, keeping its own keys" do
      raw = [{ "segment_path" => "/s/a.wal", "codec" => "json_crc32", "fact_count" => 3, "truncated_bytes" => 9 },
             { "segment_path" => "/s/b.wal", "deleted" => true }]
      report = described_class.build(raw, default_file: "/s")

      expect(report).to include("clean" => false, "damaged_files" => 1)
      expect(report["files"].map { |f| [f["file"], f["truncated_bytes"]] }).to eq([["/s/a.wal", 9], ["/s/b.wal", 0]])
      expect(report["files"].first).to include("codec" => "json_crc32", "fact_count" => 3, "tail" => nil)
      expect(report["files"].last).to include("deleted" => true)
    end

    it "reads per-file reports given as an Array naming their file or as a Hash keyed by file" do
      one = { file: "/s/a.wal", original_bytes: 50, valid_bytes: 38, truncated_bytes: 12, tail: :torn,
              mode: :salvage, quarantined: [], salvaged_frames: 0, damaged_spans: 1 }
      clean = { original_bytes: 20, valid_bytes: 20, truncated_bytes: 0, tail: :clean, mode: :salvage,
                quarantined: [], salvaged_frames: 0, damaged_spans: 0 }
      from_array = described_class.build([one, clean.merge(file: "/s/b.wal")])
      from_hash = described_class.build({ "/s/a.wal" => one.except(:file), "/s/b.wal" => clean })

      expect(from_array).to eq(from_hash)
      expect(from_array["files"].map { |f| [f["file"], f["tail"]] })
        .to eq([["/s/a.wal", "torn"], ["/s/b.wal", "clean"]])
      expect(from_array["damaged_files"]).to eq(1)
    end

    it "gives one warn line per damaged file naming where the cut bytes went, or one info line" do
      raw = [{ file: "/s/a.wal", original_bytes: 100, valid_bytes: 88, truncated_bytes: 0, tail: :bad_crc,
               mode: :salvage, quarantined: [span], salvaged_frames: 2, damaged_spans: 1 },
             { file: "/s/b.wal", original_bytes: 9, valid_bytes: 0, truncated_bytes: 9, tail: :torn },
             { file: "/s/c.wal", original_bytes: 5, valid_bytes: 5, truncated_bytes: 0, tail: :clean }]

      expect(described_class.log_lines(described_class.build(raw), "/s")).to eq(
        [[:warn, "Recovery: /s/a.wal damaged (tail=bad_crc, mode=salvage): kept 88 of 100 bytes, cut 0 bytes, " \
                 "salvaged 2 frame(s), 1 damaged span(s); quarantined 1 span(s): bad_crc@40+12 -> " \
                 "#{span[:quarantine_path]}"],
         [:warn, "Recovery: /s/b.wal damaged (tail=torn): kept 0 of 9 bytes, cut 9 bytes; nothing quarantined"]]
      )
      expect(described_class.log_lines(described_class.build([]), "/s"))
        .to eq([[:info, "Recovery: /s opened clean (nothing to recover)"]])
    end

    it "is nil for a backend that does not declare a recovery report" do
      expect(described_class.of(nil)).to be_nil
      undeclared = Class.new { include Igniter::Store::Backend; def recovery = raise("not asked") }.new # rubocop:disable Style/Semicolon
      expect(described_class.of(undeclared)).to be_nil
    end
  end
end
