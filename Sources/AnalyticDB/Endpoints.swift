import Profiles

/// Where AnalyticDB's API lives for a region (an explicit profile endpoint wins).
public enum Endpoints {
    static let central: Set<String> = [
        "cn-hangzhou", "cn-zhangbei", "cn-wuhan", "cn-fujian", "ap-south-1", "ap-southeast-2", "cn-hangzhou-finance",
        "cn-beijing-finance-1", "eu-west-1-oxs", "rus-west-1-pop",
    ]

    public static func gpdb(for profile: Profile) -> String {
        if let endpoint = profile.endpoint { return endpoint }
        return central.contains(profile.region) ? "https://gpdb.aliyuncs.com" : "https://gpdb.\(profile.region).aliyuncs.com"
    }

    public static func openPlatform(for profile: Profile) -> String {
        profile.openPlatformEndpoint ?? "https://openplatform.aliyuncs.com"
    }
}
