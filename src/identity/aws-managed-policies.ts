/**
 * The AWS managed policies Keyhold knows, by ARN, so `aws iam attach-user-policy --policy-arn
 * arn:aws:iam::aws:policy/AdministratorAccess` works as it does on AWS. A table (STYLE habit 5):
 * adding one is one entry. Documents follow the AWS Managed Policy Reference Guide, reduced to
 * the services Keyhold serves where AWS's lists hundreds of actions.
 */

/** An AWS managed policy. */
export interface AwsManagedPolicy {
  readonly arn: string;
  readonly name: string;
  readonly description: string;
  readonly document: string;
}

function policy(name: string, description: string, statements: readonly unknown[]): AwsManagedPolicy {
  return Object.freeze({
    arn: `arn:aws:iam::aws:policy/${name}`,
    name,
    description,
    document: JSON.stringify({ Version: '2012-10-17', Statement: statements }),
  });
}

const POLICIES: readonly AwsManagedPolicy[] = [
  policy('AdministratorAccess', 'Provides full access to AWS services and resources.', [{ Effect: 'Allow', Action: '*', Resource: '*' }]),
  policy('PowerUserAccess', 'Provides full access to AWS services and resources, but does not allow management of Users and groups.', [
    { Effect: 'Allow', NotAction: ['iam:*', 'organizations:*', 'account:*'], Resource: '*' },
    { Effect: 'Allow', Action: ['iam:CreateServiceLinkedRole', 'iam:DeleteServiceLinkedRole', 'iam:ListRoles', 'organizations:DescribeOrganization'], Resource: '*' },
  ]),
  policy('IAMFullAccess', 'Provides full access to IAM via the AWS Management Console.', [
    {
      Effect: 'Allow',
      Action: ['iam:*', 'organizations:DescribeAccount', 'organizations:DescribeOrganization', 'organizations:ListPolicies', 'organizations:ListRoots', 'organizations:ListTargetsForPolicy'],
      Resource: '*',
    },
  ]),
  policy('IAMReadOnlyAccess', 'Provides read only access to IAM via the AWS Management Console.', [
    { Effect: 'Allow', Action: ['iam:GenerateCredentialReport', 'iam:Get*', 'iam:List*', 'iam:SimulateCustomPolicy', 'iam:SimulatePrincipalPolicy'], Resource: '*' },
  ]),
  policy('AWSKeyManagementServicePowerUser', 'Provides access to AWS Key Management Service (AWS KMS).', [
    {
      Effect: 'Allow',
      Action: [
        'kms:CreateAlias', 'kms:CreateKey', 'kms:DeleteAlias', 'kms:Describe*', 'kms:GenerateRandom', 'kms:Get*', 'kms:List*',
        'kms:TagResource', 'kms:UntagResource', 'iam:ListGroups', 'iam:ListRoles', 'iam:ListUsers',
      ],
      Resource: '*',
    },
  ]),
];

/** AWS managed policies by ARN. */
export const AWS_MANAGED_POLICIES: ReadonlyMap<string, AwsManagedPolicy> = new Map(POLICIES.map((p) => [p.arn, p]));
