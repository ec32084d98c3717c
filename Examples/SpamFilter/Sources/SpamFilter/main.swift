import Lathe

// Cross-validate a TF-IDF + linear SVM pipeline on the bundled SMS collection, with the
// same folds as `lathe cv` (stratified, shuffled with seed 0).
let messages = try Dataset.load("sms_spam")
let svm = try ModelSpec(name: "svm", task: .classification, assignments: [("C", "0.5")])
let report = try await CrossValidation.run(svm, on: messages, splitter: StratifiedKFold(foldCount: 5, seed: 0))
print("svm C=0.5, 5-fold accuracy:", report.mean("accuracy"))

// Fit on every message, save the model, load it back and predict raw texts.
let model = try await svm.fit(messages)
try ModelFile.write(model, to: "spam-svm.lathe")
let loaded = try ModelFile.read("spam-svm.lathe")
let texts = CommandLine.arguments.dropFirst()
for (text, prediction) in zip(texts, try await loaded.predict(.text(Array(texts)))) {
    print(prediction.text, "<-", text)
}
