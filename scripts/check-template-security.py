#!/usr/bin/env python3
"""Security checks over template.yaml that sam validate / cfn-lint cannot make (issue 11):

1. The alerts topic has an AWS::SNS::TopicPolicy that lets only log-filter's role and CloudWatch
   alarms of this account (aws:SourceAccount and aws:SourceArn) publish, and denies everyone else.
2. DynamoDB grants are exactly the actions each function calls (the table below), on the state
   table only, never `dynamodb:*` allowed; every DynamoDB SDK call in functions/ is in the table
   (a new call without a grant fails here, not in production).
3. The notifier's grant is limited to its own key prefixes (dynamodb:LeadingKeys), and log-filter
   is denied those prefixes.

Usage: check-template-security.py [TEMPLATE]   (exit 1 with one line per problem)
       check-template-security.py --self-test  (each check fails on a template broken for it)
Runs from scripts/validate-template with the project venv (samcli's YAML loader reads the tags).
"""

import copy
import pathlib
import re
import sys

from samcli.yamlhelper import yaml_parse

ROOT = pathlib.Path(__file__).resolve().parent.parent

# The DynamoDB actions each function's role needs: what its code calls (see SDK_CALLS).
# logalert-dynamodb (both functions): get -> GetItem, get_many -> BatchGetItem, put(None) -> PutItem,
# put(Some(version)) -> UpdateItem, commit -> TransactWriteItems (authorised per item: PutItem,
# DeleteItem), due -> Query on the due index. log-filter (engine v2) reads, commits and queries; the
# notifier gets and puts (its settle is a put with a version).
CALLS = {
    "LogFilterRole": {
        "dynamodb:GetItem",
        "dynamodb:BatchGetItem",
        "dynamodb:PutItem",
        "dynamodb:DeleteItem",
        "dynamodb:Query",
    },
    "NotifierRole": {"dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"},
}
# The notifier's state keys (functions/slack-notifier: dedup, threads).
NOTIFIER_PREFIXES = {"sns#*", "alert#*", "slack-thread#*"}

# SDK builder method -> IAM action.
SDK_CALLS = {
    "get_item": "dynamodb:GetItem",
    "put_item": "dynamodb:PutItem",
    "update_item": "dynamodb:UpdateItem",
    "delete_item": "dynamodb:DeleteItem",
    "query": "dynamodb:Query",
    "scan": "dynamodb:Scan",
    "batch_get_item": "dynamodb:BatchGetItem",
    "batch_write_item": "dynamodb:BatchWriteItem",
    "transact_get_items": "dynamodb:TransactGetItems",
    # No IAM action of its own: each item is authorised as the PutItem/DeleteItem it is.
    "transact_write_items": "dynamodb:PutItem",
}


def as_list(v):
    return v if isinstance(v, list) else [v]


def statements(role):
    for policy in role.get("Properties", {}).get("Policies", []):
        for st in policy["PolicyDocument"]["Statement"]:
            # `!If [cond, statement, AWS::NoValue]` branches: check the statement branch.
            if isinstance(st, dict) and "Fn::If" in st:
                st = st["Fn::If"][1]
            if isinstance(st, dict) and "Effect" in st:
                yield st


def is_getatt(v, resource, attr="Arn"):
    return v == {"Fn::GetAtt": [resource, attr]} or v == {"Fn::GetAtt": f"{resource}.{attr}"}


def check_topic_policy(t, problems):
    res = t["Resources"]
    policies = [
        (name, r)
        for name, r in res.items()
        if r.get("Type") == "AWS::SNS::TopicPolicy"
        and {"Ref": "AlertsTopic"} in as_list(r["Properties"].get("Topics", []))
    ]
    if len(policies) != 1:
        problems.append(f"the alerts topic needs exactly one AWS::SNS::TopicPolicy (found {len(policies)})")
        return
    name, policy = policies[0]
    sts = policy["Properties"]["PolicyDocument"]["Statement"]
    publish = [s for s in sts if "sns:Publish" in as_list(s.get("Action", []))]
    allows = [s for s in publish if s["Effect"] == "Allow"]
    denies = [s for s in publish if s["Effect"] == "Deny"]
    principals = []
    for s in allows:
        p = s.get("Principal", {})
        if isinstance(p, dict) and is_getatt(p.get("AWS"), "LogFilterRole"):
            principals.append("log-filter")
        elif isinstance(p, dict) and p.get("Service") == "cloudwatch.amazonaws.com":
            cond = s.get("Condition", {})
            account = cond.get("StringEquals", {}).get("aws:SourceAccount")
            source = cond.get("ArnLike", {}).get("aws:SourceArn") or cond.get("ArnEquals", {}).get("aws:SourceArn")
            if account != {"Ref": "AWS::AccountId"}:
                problems.append(f"{name}: CloudWatch may publish without aws:SourceAccount = this account")
            source_text = source.get("Fn::Sub", "") if isinstance(source, dict) else ""
            if not re.search(r":cloudwatch:\$\{AWS::Region\}:\$\{AWS::AccountId\}:alarm:", source_text):
                problems.append(f"{name}: CloudWatch may publish without aws:SourceArn = this account's alarms")
            principals.append("cloudwatch")
        else:
            problems.append(f"{name}: sns:Publish allowed to another principal: {p}")
    if sorted(principals) != ["cloudwatch", "log-filter"]:
        problems.append(f"{name}: Publish must be allowed to log-filter's role and CloudWatch alarms (got {principals})")
    everyone_else = [
        s
        for s in denies
        if s.get("Principal") in ("*", {"AWS": "*"})
        and is_getatt(s.get("Condition", {}).get("ArnNotEquals", {}).get("aws:PrincipalArn"), "LogFilterRole")
        and s["Condition"].get("StringNotEquals", {}).get("aws:PrincipalServiceName") == "cloudwatch.amazonaws.com"
    ]
    if not everyone_else:
        problems.append(f"{name}: no Deny of sns:Publish for every principal but log-filter's role and CloudWatch")
    for s in allows + denies:
        if s.get("Resource") != {"Ref": "AlertsTopic"}:
            problems.append(f"{name}: statement {s.get('Sid')} is not on the alerts topic")


def sdk_calls():
    """IAM actions the functions' code calls, from the DynamoDB SDK builders used in functions/."""
    found = set()
    for path in (ROOT / "functions").glob("*/src/**/*.rs"):
        text = path.read_text(encoding="utf-8")
        crate = path.relative_to(ROOT / "functions").parts[0]
        if "aws_sdk_dynamodb" not in text and "dynamodb" not in crate:
            continue
        for method, action in SDK_CALLS.items():
            if re.search(rf"\.{method}\(\)", text):
                found.add(action)
    return found


def check_dynamodb(t, problems, calls_in_code=None):
    res = t["Resources"]
    granted_union = set()
    for role_name, needed in CALLS.items():
        role = res.get(role_name)
        if role is None:
            problems.append(f"{role_name}: missing")
            continue
        granted = set()
        for st in statements(role):
            actions = {a for a in as_list(st.get("Action", [])) if isinstance(a, str) and a.startswith("dynamodb:")}
            if not actions:
                continue
            if st["Effect"] == "Allow":
                if any("*" in a for a in actions):
                    problems.append(f"{role_name}: allows a DynamoDB wildcard {sorted(actions)}")
                resources = as_list(st.get("Resource"))
                for r in resources:
                    if not (is_getatt(r, "StateTable") or (isinstance(r, dict) and "${StateTable.Arn}/index/" in str(r.get("Fn::Sub", "")))):
                        problems.append(f"{role_name}: DynamoDB allowed on {r}, not the state table")
                granted |= actions
                if role_name == "NotifierRole":
                    keys = st.get("Condition", {}).get("ForAllValues:StringLike", {}).get("dynamodb:LeadingKeys")
                    if set(as_list(keys or [])) != NOTIFIER_PREFIXES:
                        problems.append(f"{role_name}: DynamoDB not limited to its key prefixes {sorted(NOTIFIER_PREFIXES)} (got {keys})")
        if granted != needed:
            problems.append(f"{role_name}: DynamoDB grants {sorted(granted)}, the function calls {sorted(needed)}")
        granted_union |= granted
    # log-filter may not touch the notifier's items.
    lf = res.get("LogFilterRole", {})
    denied = [
        st
        for st in statements(lf)
        if st["Effect"] == "Deny"
        and set(as_list(st.get("Condition", {}).get("ForAnyValue:StringLike", {}).get("dynamodb:LeadingKeys", []))) >= NOTIFIER_PREFIXES
    ]
    if not denied:
        problems.append("LogFilterRole: not denied the notifier's key prefixes")
    calls = sdk_calls() if calls_in_code is None else calls_in_code
    missing = calls - set().union(*CALLS.values())
    if missing:
        problems.append(f"functions/ call {sorted(missing)}: add them to CALLS (and the roles) in {pathlib.Path(__file__).name}")


def check(t, calls_in_code=None):
    # Fn::ForEach entries (lists) are not resources to check.
    t = dict(t, Resources={n: r for n, r in t["Resources"].items() if isinstance(r, dict)})
    problems = []
    check_topic_policy(t, problems)
    check_dynamodb(t, problems, calls_in_code)
    return problems


def load(path):
    return yaml_parse(pathlib.Path(path).read_text(encoding="utf-8"))


def self_test(path):
    """Each check must fail on a template broken in the way it guards against."""
    good = load(path)
    assert check(good) == [], check(good)

    def broken(f):
        t = copy.deepcopy(good)
        f(t)
        return check(t)

    def topic_policy(t):
        return next(
            r for r in t["Resources"].values() if isinstance(r, dict) and r.get("Type") == "AWS::SNS::TopicPolicy"
        )

    def drop_statement(t, sid):
        doc = topic_policy(t)["Properties"]["PolicyDocument"]
        doc["Statement"] = [s for s in doc["Statement"] if s.get("Sid") != sid]

    def role_state(t, role):
        return next(s for s in statements(t["Resources"][role]) if s.get("Sid") == "State")

    cases = {
        "no topic policy": lambda t: t["Resources"].pop(
            next(n for n, r in t["Resources"].items() if isinstance(r, dict) and r.get("Type") == "AWS::SNS::TopicPolicy")
        ),
        "no deny": lambda t: drop_statement(t, "NobodyElsePublishes"),
        "no source account": lambda t: next(
            s for s in topic_policy(t)["Properties"]["PolicyDocument"]["Statement"] if s.get("Sid") == "AlarmsOfThisAccountPublish"
        )["Condition"].pop("StringEquals"),
        "publish to anyone": lambda t: topic_policy(t)["Properties"]["PolicyDocument"]["Statement"].append(
            {"Effect": "Allow", "Principal": "*", "Action": "sns:Publish", "Resource": {"Ref": "AlertsTopic"}}
        ),
        "UpdateItem again": lambda t: role_state(t, "LogFilterRole").__setitem__(
            "Action", ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"]
        ),
        "notifier unscoped": lambda t: role_state(t, "NotifierRole").pop("Condition"),
        "wildcard": lambda t: role_state(t, "NotifierRole").__setitem__("Action", "dynamodb:*"),
        "log-filter not denied": lambda t: t["Resources"]["LogFilterRole"]["Properties"]["Policies"][0]["PolicyDocument"].__setitem__(
            "Statement",
            [s for s in t["Resources"]["LogFilterRole"]["Properties"]["Policies"][0]["PolicyDocument"]["Statement"] if not (isinstance(s, dict) and s.get("Sid") == "NotTheNotifiersItems")],
        ),
    }
    for name, f in cases.items():
        problems = broken(f)
        assert problems, f"self-test: the check does not notice: {name}"
        print(f"self-test: {name}: {problems[0]}")
    new_call = check(good, calls_in_code={"dynamodb:GetItem", "dynamodb:Scan"})
    assert any("dynamodb:Scan" in p for p in new_call), new_call
    print(f"self-test: a new SDK call: {new_call[0]}")
    print(f"self-test: {len(cases) + 1} broken templates noticed")


def main(argv):
    if argv[1:2] == ["--self-test"]:
        self_test(argv[2] if len(argv) > 2 else ROOT / "template.yaml")
        return 0
    path = argv[1] if len(argv) > 1 else ROOT / "template.yaml"
    problems = check(load(path))
    for p in problems:
        print(f"{path}: {p}", file=sys.stderr)
    if not problems:
        print(f"{path}: topic policy and DynamoDB grants ok")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
