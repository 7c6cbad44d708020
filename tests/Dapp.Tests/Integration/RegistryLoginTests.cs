using System.Text;
using Dapp.Tests.Integration.Registry;

namespace Dapp.Tests.Integration;

/// <summary>
/// Credentials as CI jobs have them: a private <c>from</c> image pulled with a Docker config's credentials, and
/// GitLab's job token for CI_REGISTRY (dapp's autologin); secrets never in any output.
/// </summary>
[Collection(TransferCollection.Name)]
public class RegistryLoginTests
{
    private const string BasePassword = "base-secret-8d1e";
    private const string JobToken = "job-token-3f9a77";

    [Fact]
    public async Task A_private_from_image_builds_with_a_docker_config_and_stages_push_logs_in_with_the_CI_job_token()
    {
        var dir = Directory.CreateTempSubdirectory("dapp-login-").FullName;
        try
        {
            await File.WriteAllTextAsync(Path.Combine(dir, "htpasswd"),
                await RegistryProcess.HtpasswdAsync("reader", BasePassword) + await RegistryProcess.HtpasswdAsync("gitlab-ci-token", JobToken));
            await using var registry = await RegistryProcess.StartAsync($"  htpasswd:\n    realm: basic-realm\n    path: {dir}/htpasswd\n");
            var baseImage = $"{registry.Host}/private/base:1";
            var copied = await Tool.RunAsync("/usr/bin/skopeo", "copy", "-q", "--dest-tls-verify=false", "--dest-creds", $"reader:{BasePassword}",
                "docker-daemon:dapp-examples/busybox:1.35", "docker://" + baseImage);
            Assert.True(copied.ExitCode == 0, copied.Stderr);

            await using var test = new TestProject($"dimg: app\nfrom: {baseImage}\nshell:\n  install: echo built > /built\n");
            await using var host = await FreshEngine.StartAsync();
            var env = host.Environment(test);
            env["DOCKER_CONFIG"] = Path.Combine(dir, "no-config");
            Task<CliResult> Dapp(params string[] args) => DappCli.RunAsync(test.Dir, env, [.. args, "--name", test.Name]);
            var secrets = new[] { BasePassword, JobToken, Convert.ToBase64String(Encoding.UTF8.GetBytes($"reader:{BasePassword}")),
                Convert.ToBase64String(Encoding.UTF8.GetBytes($"gitlab-ci-token:{JobToken}")) };
            void AssertNoSecret(CliResult result)
            {
                foreach (var secret in secrets) Assert.DoesNotContain(secret, result.Stdout + result.Stderr);
            }

            var anonymous = await Dapp("dimg", "build", "--verbose");
            Assert.Equal(1, anonymous.ExitCode);
            Assert.Contains($"cannot get the base image '{baseImage}'", anonymous.Stderr);
            Assert.DoesNotContain("   at ", anonymous.Stderr);

            // The credentials only in a Docker config (DOCKER_CONFIG), as `docker login` writes them.
            var config = Path.Combine(dir, "docker-config");
            Directory.CreateDirectory(config);
            await File.WriteAllTextAsync(Path.Combine(config, "config.json"),
                "{\"auths\": {\"" + registry.Host + "\": {\"auth\": \"" + secrets[2] + "\"}}}");
            env["DOCKER_CONFIG"] = config;
            var built = await Dapp("dimg", "build", "--verbose", "--json");
            Assert.True(built.ExitCode == 0, built.Stderr + built.Stdout);
            AssertNoSecret(built);
            var stage = (await Dapp("dimg", "stage", "image")).Stdout.Trim();
            Assert.Equal("built", (await DockerCli.RunAsync("-H", host.Host, "run", "--rm", "--network=none", stage, "cat", "/built")).Stdout.Trim());

            // GitLab CI: the job token for CI_REGISTRY, no other credentials; DAPP_IGNORE_CI_DOCKER_AUTOLOGIN turns it off.
            env["DOCKER_CONFIG"] = Path.Combine(dir, "no-config");
            env["CI_REGISTRY"] = registry.Host;
            env["CI_JOB_TOKEN"] = JobToken;
            env["DAPP_IGNORE_CI_DOCKER_AUTOLOGIN"] = "1";
            var ignored = await Dapp("dimg", "stages", "push", $"{registry.Host}/team/app", "--verbose");
            Assert.Equal(1, ignored.ExitCode);
            Assert.Contains("unauthorized", ignored.Stderr, StringComparison.OrdinalIgnoreCase);
            AssertNoSecret(ignored);
            env.Remove("DAPP_IGNORE_CI_DOCKER_AUTOLOGIN");
            var pushed = await Dapp("dimg", "stages", "push", $"{registry.Host}/team/app", "--verbose", "--json");
            Assert.True(pushed.ExitCode == 0, pushed.Stderr + pushed.Stdout);
            AssertNoSecret(pushed);
            var tags = await Tool.RunAsync("/usr/bin/skopeo", "list-tags", "--tls-verify=false", "--creds", $"reader:{BasePassword}", $"docker://{registry.Host}/team/app");
            Assert.Equal(2, tags.Stdout.Split("dimgstage-").Length - 1);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
