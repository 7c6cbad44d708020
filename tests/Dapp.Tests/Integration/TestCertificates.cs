using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Dapp.Tests.Integration;

/// <summary>
/// A certificate authority of the test's own, a server certificate for 127.0.0.1 and a client certificate it signed,
/// written as PEM files the way the docker CLI expects them in DOCKER_CERT_PATH (ca.pem, cert.pem, key.pem; the
/// server's as server-cert.pem and server-key.pem).
/// </summary>
public sealed class TestCertificates
{
    private TestCertificates(string dir, X509Certificate2 server)
    {
        Dir = dir;
        Server = server;
    }

    public string Dir { get; }
    public string CaFile => Path.Combine(Dir, "ca.pem");
    public string ServerCertFile => Path.Combine(Dir, "server-cert.pem");
    public string ServerKeyFile => Path.Combine(Dir, "server-key.pem");

    /// <summary>The server's certificate with its private key.</summary>
    public X509Certificate2 Server { get; }

    public static TestCertificates Make(string dir)
    {
        Directory.CreateDirectory(dir);
        var now = DateTimeOffset.UtcNow;
        using var caKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var caRequest = new CertificateRequest("CN=dapp test CA", caKey, HashAlgorithmName.SHA256);
        caRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        caRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        caRequest.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(caRequest.PublicKey, false));
        using var ca = caRequest.CreateSelfSigned(now.AddMinutes(-5), now.AddDays(1));
        File.WriteAllText(Path.Combine(dir, "ca.pem"), ca.ExportCertificatePem());

        var server = Issue(ca, "CN=127.0.0.1", "1.3.6.1.5.5.7.3.1", Path.Combine(dir, "server-cert.pem"), Path.Combine(dir, "server-key.pem"), serverName: true);
        Issue(ca, "CN=dapp test client", "1.3.6.1.5.5.7.3.2", Path.Combine(dir, "cert.pem"), Path.Combine(dir, "key.pem"), serverName: false).Dispose();
        return new TestCertificates(dir, server);
    }

    private static X509Certificate2 Issue(X509Certificate2 ca, string subject, string usage, string certFile, string keyFile, bool serverName)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest(subject, key, HashAlgorithmName.SHA256);
        if (serverName)
        {
            var names = new SubjectAlternativeNameBuilder();
            names.AddIpAddress(IPAddress.Loopback);
            request.CertificateExtensions.Add(names.Build());
        }
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid(usage)], false));
        request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(ca, true, false));
        // The CA's own window, which a certificate it signs may not outlast (certificates carry whole seconds, so a
        // window computed again from the clock can end a second after the CA's).
        using var signed = request.Create(ca, new DateTimeOffset(ca.NotBefore), new DateTimeOffset(ca.NotAfter), RandomNumberGenerator.GetBytes(8));
        File.WriteAllText(certFile, signed.ExportCertificatePem());
        File.WriteAllText(keyFile, key.ExportPkcs8PrivateKeyPem());
        return signed.CopyWithPrivateKey(key);
    }
}
