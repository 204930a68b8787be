# frozen_string_literal: true

require "net/http"
require "openssl"

# TLS without a proxy: the op protocol, envelope TCP and HTTP listeners of
# a server started with a certificate and key, and the clients that trust
# it. Each example makes a throwaway self-signed certificate.
RSpec.describe "TLS listeners", :servers, :in_tmpdir do
  include LedgerSpec::AdapterHelpers

  # @return [Array(String, String)] PEM certificate and key files for 127.0.0.1 / localhost
  def self_signed(dir, name = "server")
    key = OpenSSL::PKey::RSA.new(2048)
    cert = OpenSSL::X509::Certificate.new
    cert.version = 2
    cert.serial = rand(1 << 62)
    cert.subject = cert.issuer = OpenSSL::X509::Name.parse("/CN=#{name}")
    cert.public_key = key.public_key
    cert.not_before = Time.now - 60
    cert.not_after = Time.now + 3600
    extensions = OpenSSL::X509::ExtensionFactory.new(cert, cert)
    cert.add_extension(extensions.create_extension("subjectAltName", "IP:127.0.0.1,DNS:localhost"))
    cert.add_extension(extensions.create_extension("basicConstraints", "CA:TRUE", true))
    cert.sign(key, OpenSSL::Digest.new("SHA256"))
    paths = [File.join(dir, "#{name}.crt"), File.join(dir, "#{name}.key")]
    File.write(paths[0], cert.to_pem)
    File.write(paths[1], key.to_pem)
    paths
  end

  let(:files) { self_signed(@dir) }
  let(:server) do
    build_server(tls_cert: files[0], tls_key: files[1], read_timeout: 1).tap do |s|
      s.start_adapters(http_port: 0, tcp_port: 0)
      s.start_async
    end
  end

  def tls_client(**opts)
    client_for(server, tls: true, ca_file: files[0], timeout: 3, **opts)
  end

  it "serves the op protocol over TLS to a client that trusts the certificate, pushes included" do
    client = tls_client
    client.write_fact(Igniter::Store::Fact.build(store: :tasks, key: "t1", value: { n: 1 }))
    pushed = Queue.new
    subscription = tls_client.subscribe(stores: [:tasks]) { |fact| pushed << fact.key }
    client.write_fact(Igniter::Store::Fact.build(store: :tasks, key: "t2", value: { n: 2 }))

    expect(client.replay.map(&:key)).to eq(%w[t1 t2])
    expect(pop_within(pushed)).to eq("t2")
    subscription.close
  end

  it "refuses a client that does not trust the certificate, and one that speaks plain frames" do
    other_ca = self_signed(@dir, "other")[0]
    expect { client_for(server, tls: true, ca_file: other_ca, timeout: 3) }
      .to raise_error(Igniter::Store::Transport::TLS::HandshakeError, /certificate verify failed/)

    plain = client_for(server, timeout: 2)
    expect { plain.send(:rpc, "ping") }.to raise_error do |error|
      expect(error).to be_a(Igniter::Store::NetworkBackend::NetworkError).or be_a(Errno::ECONNRESET)
    end
    expect(tls_client.send(:rpc, "ping")).to eq(ok: true, pong: true)
  end

  it "handshakes on the connection's thread: a silent client does not hold up the others" do
    silent = TCPSocket.new("127.0.0.1", port_number(server))
    tracked_sockets << silent

    expect(tls_client.send(:rpc, "ping")).to eq(ok: true, pong: true)
    expect(closed_by_peer?(silent, timeout: 3)).to be(true) # read_timeout ends the handshake wait
  end

  it "serves HTTPS with puma's TLS and refuses plain HTTP there" do
    port = port_of(server.http_adapter.bind_address)
    https = Net::HTTP.new("127.0.0.1", port)
    https.use_ssl = true
    https.ca_file = files[0]
    https.open_timeout = https.read_timeout = 3
    health = https.start { |h| h.get("/v1/health") }

    expect(server.http_adapter.scheme).to eq("https")
    expect([health.code, JSON.parse(health.body)["status"]]).to eq(%w[200 ready])
    plain = TCPSocket.new("127.0.0.1", port)
    tracked_sockets << plain
    plain.write("GET /v1/health HTTP/1.1\r\nHost: x\r\n\r\n")
    answer = begin
      plain.wait_readable(1.5) ? plain.read_nonblock(4096, exception: false) : nil
    rescue Errno::ECONNRESET
      nil
    end
    expect(answer.to_s).not_to include("200 OK")
  end

  it "serves envelope TCP over TLS" do
    tcp = Socket.tcp("127.0.0.1", port_of(server.tcp_adapter.bind_address), connect_timeout: 2)
    ssl = Igniter::Store::Transport::TLS.connect(tcp, Igniter::Store::Transport::TLS.client_context(ca_file: files[0]),
                                                 "127.0.0.1", 3)
    ssl.write(raw_frame(JSON.generate(envelope(:metadata_snapshot, request_id: "m1"))))
    reply = JSON.parse(Igniter::Store::WireProtocol.read_frame(ssl))
    expect(reply).to include("status" => "ok", "request_id" => "m1")
  ensure
    ssl&.close
  end

  it "names the file when the certificate or key cannot be used" do
    missing = File.join(@dir, "missing.crt")
    expect { Igniter::Store::StoreServer.new(port: 0, tls_cert: missing, tls_key: files[1]) }
      .to raise_error(ArgumentError, "TLS certificate #{missing}: cannot read it (No such file or directory @ " \
                                     "rb_sysopen - #{missing})")
    other_key = self_signed(@dir, "other")[1]
    expect { Igniter::Store::StoreServer.new(port: 0, tls_cert: files[0], tls_key: other_key) }
      .to raise_error(ArgumentError, "TLS key #{other_key} does not belong to the certificate #{files[0]}")
    expect { Igniter::Store::StoreServer.new(port: 0, tls_cert: files[0]) }
      .to raise_error(ArgumentError, /needs both a certificate and a key/)
  end
end
