namespace Dapp.Registry.Remote;

/// <summary>A username and password, or an identity (refresh) token. Never printed: <see cref="ToString"/> hides it.</summary>
public sealed record RegistryCredential(string Username, string Secret, bool IsIdentityToken = false)
{
    public override string ToString() => $"credential for {Username}";
}
