using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Docker.DotNet.Handler.Abstractions;
using Docker.DotNet.X509;

namespace Dapp.Engine;

/// <summary>
/// TLS to a remote engine, set up as the docker CLI sets it up: <c>DOCKER_TLS_VERIFY</c> (any non-empty value) turns
/// on TLS with verification of the engine's certificate, <c>DOCKER_TLS</c> TLS without it; the certificates are in
/// <c>DOCKER_CERT_PATH</c> (default <c>~/.docker</c>): <c>ca.pem</c>, the authority the engine's certificate must chain
/// to (the system's authorities when it is absent), and <c>cert.pem</c>/<c>key.pem</c>, the client certificate (sent
/// when present). With neither variable a <c>tcp://</c> engine is plain HTTP.
/// </summary>
internal static class EngineTls
{
    public static IAuthProvider? For(Uri endpoint, Func<string, string?> environment)
    {
        if (endpoint.Scheme is not ("tcp" or "https")) return null;
        var verify = environment("DOCKER_TLS_VERIFY") is { Length: > 0 };
        if (!verify && environment("DOCKER_TLS") is not { Length: > 0 } && endpoint.Scheme != "https") return null;

        var dir = environment("DOCKER_CERT_PATH") is { Length: > 0 } path ? path
            : Path.Combine(environment("HOME") is { Length: > 0 } home ? home : Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".docker");
        var (certFile, keyFile, caFile) = (Path.Combine(dir, "cert.pem"), Path.Combine(dir, "key.pem"), Path.Combine(dir, "ca.pem"));
        X509Certificate2? client = null;
        X509Certificate2? authority = null;
        try
        {
            if (File.Exists(certFile) && File.Exists(keyFile)) client = X509Certificate2.CreateFromPemFile(certFile, keyFile);
            if (verify && File.Exists(caFile)) authority = X509CertificateLoader.LoadCertificateFromFile(caFile);
        }
        catch (CryptographicException e)
        {
            throw new DappException($"Cannot read the Docker engine's TLS certificates in {dir} (DOCKER_CERT_PATH: cert.pem, key.pem, ca.pem): {e.Message}");
        }
        return new CertificateCredentials(client)
        {
            ServerCertificateValidationCallback = (_, certificate, _, errors) => !verify || Trusted(certificate, errors, authority),
        };
    }

    /// <summary>The engine's certificate names the host and chains to <c>ca.pem</c> (or, without one, to the system's authorities).</summary>
    private static bool Trusted(X509Certificate? certificate, SslPolicyErrors errors, X509Certificate2? authority)
    {
        if (authority is null) return errors == SslPolicyErrors.None;
        if (certificate is null || (errors & (SslPolicyErrors.RemoteCertificateNameMismatch | SslPolicyErrors.RemoteCertificateNotAvailable)) != 0) return false;
        using var chain = new X509Chain();
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(authority);
        using var server = X509CertificateLoader.LoadCertificate(certificate.GetRawCertData());
        return chain.Build(server);
    }
}
