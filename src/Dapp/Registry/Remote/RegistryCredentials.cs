using Dapp.Registry.Names;

namespace Dapp.Registry.Remote;

/// <summary>
/// A registry's credentials, the first source that has some: the command line's (<c>--registry-username</c> and
/// <c>--registry-password</c>), GitLab CI's job token for <c>CI_REGISTRY</c> (dapp's CI autologin, as
/// <c>gitlab-ci-token</c>; off with <c>DAPP_IGNORE_CI_DOCKER_AUTOLOGIN</c>), then the Docker config and its helpers.
/// </summary>
internal sealed class RegistryCredentials(RegistryClientOptions options)
{
    public const string GitLabCiUser = "gitlab-ci-token";

    private readonly DockerConfigCredentials _dockerConfig = new(options.Environment);

    public Task<RegistryCredential?> FindAsync(string registry, CancellationToken ct) =>
        options.Credential is { } explicitCredential ? Task.FromResult<RegistryCredential?>(explicitCredential)
        : GitLabJobToken(registry) is { } ci ? Task.FromResult<RegistryCredential?>(ci)
        : _dockerConfig.FindAsync(registry, ct);

    private RegistryCredential? GitLabJobToken(string registry)
    {
        var environment = options.Environment;
        if (environment("DAPP_IGNORE_CI_DOCKER_AUTOLOGIN") is { Length: > 0 }) return null;
        if (environment("CI_REGISTRY") is not { Length: > 0 } ciRegistry || environment("CI_JOB_TOKEN") is not { Length: > 0 } token) return null;
        return string.Equals(RepositoryName.NormalizeRegistry(ciRegistry), registry, StringComparison.OrdinalIgnoreCase) ? new RegistryCredential(GitLabCiUser, token) : null;
    }
}
