# frozen_string_literal: true

require "digest"
require "open3"

# Runs `exe/igniter-ledger` the way a user does — a child process, outside
# Bundler, on this example's path (native or pure) — and looks at files the
# way a careful user would: every byte and mtime of a tree.
module LedgerCliSpec
  EXE = File.join(LedgerSpec::ROOT, "exe", "igniter-ledger")

  # Ran: what the command printed and how it ended.
  Ran = Struct.new(:out, :err, :status) do
    def exit_code
      status.exitstatus
    end

    def json
      JSON.parse(out)
    end
  end

  # @return [Hash] the environment of this example's path
  def path_env
    Igniter::Store::NATIVE ? LedgerSpec::NATIVE_ENV : LedgerSpec::PURE_ENV
  end

  # @return [Hash] the environment of the other path
  def other_path_env
    Igniter::Store::NATIVE ? LedgerSpec::PURE_ENV : LedgerSpec::NATIVE_ENV
  end

  # `igniter-ledger *args` in +chdir+ (+exe+: another executable of exe/;
  # +prefix+: a command that runs it, e.g. setpriv to drop root).
  # @return [Ran]
  def ledger_cli(*args, chdir:, env: path_env, stdin_data: "", exe: EXE, prefix: [])
    without_bundler do
      rubyopt = ENV["RUBYOPT"].to_s.split.reject { |opt| opt.include?("bundler") }.join(" ")
      clean = { "BUNDLE_GEMFILE" => nil, "BUNDLE_BIN_PATH" => nil, "RUBYOPT" => (rubyopt.empty? ? nil : rubyopt) }
      Ran.new(*Open3.capture3(clean.merge(env), *prefix, RbConfig.ruby, exe, *args.map(&:to_s), chdir: chdir,
                                                                                               stdin_data: stdin_data))
    end
  end

  # Every file and directory under +root+ (or the file itself) with its
  # bytes' SHA-256 and its mtime in nanoseconds: equal states mean nothing
  # was written, touched, created or removed.
  # @return [Hash{String=>Array}]
  def tree_state(*roots)
    roots.each_with_object({}) do |root, state|
      paths = File.directory?(root) ? [root, *Dir.glob(File.join(root, "**", "*"), File::FNM_DOTMATCH)] : [root]
      paths.reject { |p| %w[. ..].include?(File.basename(p)) }.sort.each do |path|
        stat = File.lstat(path)
        digest = stat.file? ? Digest::SHA256.file(path).hexdigest : :dir
        state[path] = [digest, stat.mtime.to_r, stat.size]
      end
    end
  end

  # Copies a 0.5.2 fixture (file or directory) into +dir+.
  # @return [String] the copy
  def fixture_copy(dir, *parts)
    source = fixture_path(*parts)
    FileUtils.cp_r(source, dir, preserve: true)
    File.join(dir, File.basename(source))
  end

  # XORs the byte at +offset+ of +path+ (default: the middle) with 0x01.
  # @return [Integer] the offset
  def flip_byte(path, offset = File.size(path) / 2)
    bytes = File.binread(path)
    bytes.setbyte(offset, bytes.getbyte(offset) ^ 0x01)
    File.binwrite(path, bytes)
    offset
  end

  # Cuts the last +count+ bytes off +path+.
  def cut_tail(path, count)
    File.truncate(path, File.size(path) - count)
  end

  # [offset, length] of every frame of a WAL or json segment.
  def frame_spans(path)
    bytes = File.binread(path)
    spans = []
    at = 0
    while at + 8 <= bytes.bytesize
      len = bytes.unpack1("N", offset: at)
      spans << [at, len + 8]
      at += len + 8
    end
    spans
  end

  # Runs the block while this process holds +path+ as a writer (one fact written).
  def while_writing(path, segmented: false)
    store = segmented ? Igniter::Store.segmented(path) : Igniter::Store.open(path)
    store.write(store: :orders, key: "o1", value: { n: 1 })
    yield
  ensure
    store&.close
  end

  # The facts an open of +path+ serves (read-only, closed again).
  def stored_facts(path)
    store = File.directory?(path) ? Igniter::Store.segmented(path, read_only: true) : Igniter::Store.open(path, read_only: true)
    store.fact_log_all
  ensure
    store&.close
  end
end

RSpec.configure do |config|
  config.include LedgerCliSpec, :ledger_cli
  # Every example works in a fresh directory, @dir, removed afterwards.
  config.around(:example, :ledger_cli) { |ex| with_tmpdir { |dir| @dir = dir; ex.run } }
end
