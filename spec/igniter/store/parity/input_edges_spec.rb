# frozen_string_literal: true

# Inputs on which the native and the pure path used to answer differently.
# Each example runs on both paths (the suite runs twice); the ones that write
# bytes also read what the other path wrote, in a child process.
RSpec.describe "Native/pure parity on edge inputs" do
  let(:store) { Igniter::Store::IgniterStore.new }
  let(:fact_class) { Igniter::Store::Fact }

  def build(value, **opts)
    fact_class.build(store: :s, key: "k", value: value, **opts)
  end

  describe "Symbols with a NUL in their name" do
    it "are kept whole in the value, its hash and its WAL body" do
      fact = build({ "x\0y": :"p\0q" })
      expect(fact.value).to eq({ "x\0y": :"p\0q" })
      expect(fact.value_hash).to eq(Digest::SHA256.hexdigest(%({"x\\u0000y":"p\\u0000q"})))
      body = Igniter::Store::JsonCanon.fact_body(fact)
      expect(body).to include(%("value":{"x\\u0000y":"p\\u0000q"}))
      expect(Marshal.load(Marshal.dump(fact)).value).to eq({ "x\0y": :"p\0q" })
    end

    it "name distinct stores: a store cut at its NUL is another store" do
      store.write(store: :"a\0secret", key: "k", value: "secret")
      expect(store.read(store: :a, key: "k")).to be_nil
      expect(store.history(store: :a)).to eq([])
      expect(store.read(store: :"a\0secret", key: "k")).to eq("secret")
    end
  end

  describe "Symbols and Strings without a UTF-8 form" do
    it "are refused with InvalidEncodingError as values, keys and store names" do
      binary = "\xFF".b.to_sym
      error = [Igniter::Store::InvalidEncodingError, "source sequence is illegal/malformed utf-8"]
      expect { build(binary) }.to raise_error(*error)
      expect { build({ binary => 1 }) }.to raise_error(*error)
      expect { fact_class.build(store: binary, key: "k", value: 1) }.to raise_error(*error)
      expect { fact_class.build(store: :s, key: "\xFF", value: 1) }.to raise_error(*error)
    end

    it "transcode to UTF-8 when they have a UTF-8 form" do
      latin = (+"caf\xE9").force_encoding(Encoding::ISO_8859_1)
      fact = fact_class.build(store: latin.to_sym, key: latin, value: { latin.to_sym => latin })
      expect(fact.store).to eq(:café)
      expect(fact.key).to eq("café")
      expect(fact.key.encoding).to eq(Encoding::UTF_8)
      expect(fact.value_hash).to eq(Digest::SHA256.hexdigest('{"café":"café"}'))
    end

    it "find nothing when looked up, instead of raising" do
      store.write(store: :s, key: "k", value: 1)
      expect(store.read(store: :s, key: "\xFF")).to be_nil
      expect(store.read(store: :s, key: "\xFF".b)).to be_nil
      expect(store.history(store: :s, key: "\xFF")).to eq([])
      expect(store.fact_by_id("\xFF")).to be_nil
      expect(store.read(store: :s, key: "k".encode(Encoding::UTF_16LE))).to eq(1)
    end
  end

  describe "a value Hash with many keys" do
    it "normalizes and hashes like the canonical JSON, colliding keys last-wins" do
      value = (0...80_000).to_h { |i| ["k#{i}", i] }
      value[:k0] = "last" # collides with "k0" after normalization
      fact = build(value)
      expect(fact.value.size).to eq(80_000)
      expect(fact.value[:k0]).to eq("last")
      expect(fact.value.keys.first).to eq(:k0)
      expect(fact.value_hash).to eq(Igniter::Store::JsonCanon.value_hash(value))
    end
  end

  describe "schema_version" do
    it "keeps Integers of any size, through the WAL and through from_h" do
      fact = build(1, schema_version: 2**64)
      expect(fact.schema_version).to eq(2**64)
      expect(fact_class.from_h(fact.to_h).schema_version).to eq(2**64)
      expect(Igniter::Store::JsonCanon.fact_body(fact)).to include(%("schema_version":18446744073709551616))
    end

    it "treats nil as not given (1), like from_h and the decode rules" do
      expect(build(1, schema_version: nil).schema_version).to eq(1)
      expect(fact_class.from_h(store: :s, key: "k", schema_version: nil).schema_version).to eq(1)
      expect(build(1, schema_version: "7").schema_version).to eq(7)
    end
  end

  describe "valid_time" do
    it "treats false as no time and falls back to term only for nil" do
      expect(build(1, valid_time: false).valid_time).to be_nil
      expect(build(1, valid_time: false, term: 5).valid_time).to be_nil
      expect(build(1, valid_time: nil, term: 5).valid_time).to eq(5.0)
      expect(fact_class.from_h(store: :s, key: "k", valid_time: false, term: 2).valid_time).to eq(2.0)
    end
  end

  describe "Fact.from_h" do
    it "refuses what could not be written: NaN times, NaN values, values nested too deep" do
      nan = [Igniter::Store::NonFiniteNumberError, "NaN not allowed in JSON"]
      expect { fact_class.from_h(store: :s, key: "k", transaction_time: Float::NAN) }.to raise_error(*nan)
      expect { fact_class.from_h(store: :s, key: "k", valid_time: Float::INFINITY) }
        .to raise_error(Igniter::Store::NonFiniteNumberError, "Infinity not allowed in JSON")
      expect { fact_class.from_h(store: :s, key: "k", value: [Float::NAN]) }.to raise_error(*nan)
      deep = 150.times.reduce(1) { |inner, _| [inner] }
      expect { fact_class.from_h(store: :s, key: "k", value: deep) }
        .to raise_error(JSON::NestingError, "nesting of 101 is too deep")
    end

    it "raises KeyError for a missing or nil store" do
      expect { fact_class.from_h(key: "k") }.to raise_error(KeyError, "key not found: :store")
      expect { fact_class.from_h(store: nil, key: "k") }.to raise_error(KeyError, "key not found: :store")
    end
  end

  describe "Class and Module values" do
    it "are refused, named by their kind, as values (anonymous or not)" do
      [String, Comparable, Class.new, Module.new].each do |mod|
        expect { build({ v: mod }) }.to raise_error(
          Igniter::Store::UnrepresentableValueError,
          "#{mod.class} value has no JSON form: store its name instead"
        )
      end
    end

    it "stay usable as Hash keys, which become their names" do
      expect(build({ String => 1 }).value).to eq({ String: 1 })
    end
  end

  describe "NaN time bounds of the log" do
    it "are refused with ArgumentError" do
      log = Igniter::Store::FactLog.new
      log.append(build(1))
      expect { log.latest_for(store: :s, key: "k", as_of: Float::NAN) }
        .to raise_error(ArgumentError, "as_of must be a number, not NaN")
      expect { log.facts_for(store: :s, since: Float::NAN) }
        .to raise_error(ArgumentError, "since must be a number, not NaN")
      expect { log.query_scope(store: :s, filters: {}, as_of: Float::NAN) }
        .to raise_error(ArgumentError, "as_of must be a number, not NaN")
      expect(log.latest_for(store: :s, key: "k", as_of: Float::INFINITY)).not_to be_nil
    end
  end

  describe "replay order of facts at -0.0 and 0.0" do
    it "keeps them in WAL order (the times tie)" do
      with_tmpdir do |dir|
        path = File.join(dir, "ledger.wal")
        backend = Igniter::Store::FileBackend.new(path)
        [1.0, 0.0, -0.0].each_with_index do |tt, i|
          backend.write_fact(fact_class.from_h(store: :s, key: "k#{i}", value: i, transaction_time: tt))
        end
        backend.close
        replayed = Igniter::Store::FileBackend.new(path)
        expect(replayed.replay.map(&:key)).to eq(%w[k1 k2 k0])
        replayed.close
      end
    end
  end

  describe "WALs across paths" do
    script = <<~RUBY
      require "igniter-ledger"
      b = Igniter::Store::FileBackend.new(ARGV.fetch(0))
      b.write_fact(Igniter::Store::Fact.from_h(id: "i-1", store: :"a\\0b", key: "k", value: { "x\\0y": :"p\\0q" },
                                               transaction_time: 1.5, schema_version: 2**64, producer: false))
      b.close
    RUBY

    it "are byte-identical and read alike when they hold NUL Symbols and a huge schema_version" do
      with_tmpdir do |dir|
        theirs = File.join(dir, "theirs.wal")
        env = Igniter::Store::NATIVE ? LedgerSpec::PURE_ENV : LedgerSpec::NATIVE_ENV
        require_native_library!
        _out, err, status = run_ruby(script, env: env, args: [theirs])
        expect(status).to be_success, err
        mine = File.join(dir, "mine.wal")
        _out, err, status = run_ruby(script, env: Igniter::Store::NATIVE ? LedgerSpec::NATIVE_ENV : LedgerSpec::PURE_ENV,
                                             args: [mine])
        expect(status).to be_success, err
        expect(File.binread(mine)).to eq(File.binread(theirs))
        backend = Igniter::Store::FileBackend.new(theirs)
        fact = backend.replay.first
        expect([fact.store, fact.value, fact.schema_version, fact.producer]).to eq([:"a\0b", { "x\0y": :"p\0q" }, 2**64, nil])
        backend.close
      end
    end
  end
end
