using System.Text;
using Dapp.Registry.Names;
using Dapp.Registry.Remote;
using Dapp.Registry.Model;

namespace Dapp.Tests.Integration.Registry;

/// <summary>Registries with Basic (htpasswd) and Bearer (token) auth, started by the tests on loopback.</summary>
public class RegistryAuthTests
{
    private static readonly TestImage Image = TestImage.Create(new Dictionary<string, string> { ["auth.txt"] = "auth" }, withBusybox: false);

    [Fact]
    public async Task Basic_auth_works_with_credentials_from_the_options_and_from_a_docker_config()
    {
        var dir = Directory.CreateTempSubdirectory("dapp-auth-").FullName;
        try
        {
            await File.WriteAllTextAsync(Path.Combine(dir, "htpasswd"), await RegistryProcess.HtpasswdAsync("alice", "s3cret-pass"));
            await using var registry = await RegistryProcess.StartAsync($"  htpasswd:\n    realm: basic-realm\n    path: {dir}/htpasswd\n");
            var repository = RepositoryName.Parse($"{registry.Host}/team/app");

            using (var client = new RegistryClient(new RegistryClientOptions { Credential = new RegistryCredential("alice", "s3cret-pass"), Environment = _ => null }))
            {
                await Image.PushAsync(client, repository, "v1");
                Assert.NotNull(await client.HeadManifestAsync(ImageReference.WithTag(repository, "v1"), default));
            }

            await File.WriteAllTextAsync(Path.Combine(dir, "config.json"),
                System.Text.Json.JsonSerializer.Serialize(new Dictionary<string, object>
                {
                    ["auths"] = new Dictionary<string, object>
                    {
                        [registry.Host] = new Dictionary<string, string> { ["auth"] = Convert.ToBase64String(Encoding.UTF8.GetBytes("alice:s3cret-pass")) },
                    },
                }));
            using (var fromConfig = new RegistryClient(new RegistryClientOptions { Environment = n => n == "DAPP_DOCKER_CONFIG" ? dir : null }))
                Assert.NotNull(await fromConfig.HeadManifestAsync(ImageReference.WithTag(repository, "v1"), default));

            // A credential helper named by credHelpers, found on PATH, asked with the server on stdin.
            var helper = Path.Combine(dir, "docker-credential-dapptest");
            await File.WriteAllTextAsync(helper, $"#!/bin/sh\nread server\n[ \"$server\" = \"{registry.Host}\" ] || {{ echo 'credentials not found in native keychain'; exit 1; }}\necho '{{\"ServerURL\":\"'$server'\",\"Username\":\"alice\",\"Secret\":\"s3cret-pass\"}}'\n");
            File.SetUnixFileMode(helper, (UnixFileMode)0b111_101_101);
            var helperConfig = Path.Combine(dir, "helper");
            Directory.CreateDirectory(helperConfig);
            await File.WriteAllTextAsync(Path.Combine(helperConfig, "config.json"), "{\"credHelpers\": {\"" + registry.Host + "\": \"dapptest\"}}");
            using (var fromHelper = new RegistryClient(new RegistryClientOptions
                   {
                       Environment = n => n switch { "DOCKER_CONFIG" => helperConfig, "PATH" => dir + ":/usr/bin:/bin", _ => null },
                   }))
                Assert.NotNull(await fromHelper.HeadManifestAsync(ImageReference.WithTag(repository, "v1"), default));

            using (var wrong = new RegistryClient(new RegistryClientOptions { Credential = new RegistryCredential("alice", "wrong-pass-xyz"), Environment = _ => null }))
            {
                var e = await Assert.ThrowsAsync<RegistryException>(() => wrong.HeadManifestAsync(ImageReference.WithTag(repository, "v1"), default));
                Assert.Equal(RegistryErrorCode.Unauthorized, e.Code);
                Assert.Contains("unauthorized", e.Message);
                Assert.Contains("alice", e.Message);
                Assert.DoesNotContain("wrong-pass-xyz", e.ToString());
            }

            using var anonymous = new RegistryClient(new RegistryClientOptions { Environment = _ => null });
            var none = await Assert.ThrowsAsync<RegistryException>(() => anonymous.HeadManifestAsync(ImageReference.WithTag(repository, "v1"), default));
            Assert.Contains("no credentials were found", none.Message);
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    [Fact]
    public async Task Bearer_tokens_are_fetched_per_repository_scope_and_cached()
    {
        var dir = Directory.CreateTempSubdirectory("dapp-token-").FullName;
        try
        {
            await using var tokens = new TokenServer((user, password, repo) =>
                user == "bob" && password == "tok3n-pass" && (repo.Length == 0 || repo.StartsWith("team/", StringComparison.Ordinal)));
            var certificate = Path.Combine(dir, "token.pem");
            await File.WriteAllTextAsync(certificate, tokens.CertificatePem);
            await using var registry = await RegistryProcess.StartAsync(tokens.RegistryAuthSection(certificate));
            var allowed = RepositoryName.Parse($"{registry.Host}/team/app");
            var forbidden = RepositoryName.Parse($"{registry.Host}/other/app");

            using var client = new RegistryClient(new RegistryClientOptions { Credential = new RegistryCredential("bob", "tok3n-pass"), Environment = _ => null });
            await Image.PushAsync(client, allowed, "v1");
            Assert.NotNull(await client.HeadManifestAsync(ImageReference.WithTag(allowed, "v1"), default));
            Assert.Contains("repository:team/app:pull,push", tokens.RequestedScopes);
            Assert.Contains("repository:team/app:pull", tokens.RequestedScopes);
            var requests = tokens.RequestedScopes.Count;
            Assert.NotNull(await client.HeadManifestAsync(ImageReference.WithTag(allowed, "v1"), default));
            Assert.Equal(requests, tokens.RequestedScopes.Count);

            var denied = await Assert.ThrowsAsync<RegistryException>(() => client.HeadManifestAsync(ImageReference.WithTag(forbidden, "v1"), default));
            Assert.Equal(RegistryErrorCode.Unauthorized, denied.Code);
            Assert.Contains("repository:other/app:pull", tokens.RequestedScopes);

            using var wrong = new RegistryClient(new RegistryClientOptions { Credential = new RegistryCredential("bob", "nope-nope"), Environment = _ => null });
            var e = await Assert.ThrowsAsync<RegistryException>(() => wrong.HeadManifestAsync(ImageReference.WithTag(allowed, "v1"), default));
            Assert.Contains("refused the credentials of user 'bob'", e.Message);
            Assert.DoesNotContain("nope-nope", e.ToString());
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }
}
